// Released tables in the gzip coding for clients that ask for it, against the
// real server: the body decodes to exactly the identity answer, Content-Digest
// and the response signature cover the bytes sent, and the audit entry of each
// release records the coding and the digest of what left the gateway.
#include <catch2/catch.hpp>

#include <chrono>

#include "gateway/crypto/keys.h"
#include "gateway/http/message_signatures.h"
#include "support/gunzip.h"
#include "support/http_calls.h"
#include "support/prometheus_text.h"
#include "support/test_deployment.h"

namespace gw {
namespace {

std::string KazGrant(const std::string& consumer, const std::string& mechanism) {
  return "[[grant]]\ncountry = \"KAZ\"\nconsumer = \"" + consumer +
         "\"\npop_types = [\"REF\", \"ASY\", \"STA\", \"MIG\"]\n"
         "dimensions = [\"coo\", \"pop_type\", \"sex\", \"age\"]\nmechanism = \"" +
         mechanism + "\"\n" + (mechanism == "dp" ? "epsilon = 0.5\nbudget = 5.0\n" : "") +
         "threshold = 5\n\n";
}

bool SignatureVerifies(const testing::ClientResponse& answer, const std::string& public_key) {
  auto sig = http::ParseSignature(answer.Header("signature-input"), answer.Header("signature"));
  if (!sig.ok()) return false;
  http::SignatureContext ctx;
  ctx.status = answer.status;
  ctx.header = [&](std::string_view name) -> std::optional<std::string> {
    std::string v = answer.Header(std::string(name));
    if (v.empty()) return std::nullopt;
    return v;
  };
  return http::VerifySignature(*sig, ctx, public_key).ok();
}

}  // namespace

TEST_CASE("released tables are gzipped for clients that accept it, signed and audited as sent",
          "[http][coding][roles]") {
  test::TempDir tmp;
  const std::string dir = tmp.path() + "/gw";
  REQUIRE(test::RunGateway({"init", dir}).exit_code == 0);
  const std::string unhcr =
      test::FirstLine(test::RunGateway({"consumer", "add", "unhcr", "--dir", dir}));
  const std::string iom =
      test::FirstLine(test::RunGateway({"consumer", "add", "iom", "--dir", dir}));
  const std::string op = test::FirstLine(
      test::RunGateway({"consumer", "add", "ops", "--dir", dir, "--role", "operator"}));
  test::WriteFile(dir + "/policies/kaz.toml", KazGrant("unhcr", "sdc") + KazGrant("iom", "dp"));
  REQUIRE(test::RunGateway({"ingest", "--dir", dir, "--country", "KAZ", "--ref-date", "2015-06-30",
                            "--profile", "kaz-1", "--partial", test::FixturePath("kaz-1.csv")})
              .exit_code == 0);
  test::ServerProcess server(dir);
  auto keys = nlohmann::json::parse(test::MustGet(server.port(), "/v1/keys").body);
  const std::string public_key = *FromBase64(keys["gateway"]["public_key"].get<std::string>());
  const std::string table = "/v1/aggregates?ref_date=2015-06-30&by=coo,pop_type,sex";
  const std::vector<std::pair<std::string, std::string>> gzip = {
      {"Accept-Encoding", "gzip, deflate"}};

  // Identity for a client that does not ask; the first answer also fills the cache.
  auto metric = [&](const char* name) {
    return test::SampleValue(
               test::MustParseExposition(test::MustGet(server.port(), "/metrics", op).body), name)
        .value_or(-1.0);
  };
  const double hits_before = metric("gateway_answer_cache_hits_total");
  const double misses_before = metric("gateway_answer_cache_misses_total");
  const auto first_asked = std::chrono::steady_clock::now();
  auto plain = test::MustGet(server.port(), table, unhcr);
  REQUIRE(plain.status == 200);
  REQUIRE(plain.body.size() >= 1024);
  CHECK(plain.Header("content-encoding").empty());
  // No format parameter: the Accept header could have chosen the format.
  CHECK(plain.Header("vary") == "Accept, Accept-Encoding");
  CHECK(plain.Header("content-digest") == http::ContentDigestSha256(plain.body));
  CHECK(SignatureVerifies(plain, public_key));

  // gzip from the cache, twice: the same bytes, which decode to the identity answer.
  auto coded = test::MustGet(server.port(), table, unhcr, gzip);
  REQUIRE(coded.status == 200);
  CHECK(coded.Header("content-encoding") == "gzip");
  CHECK(coded.Header("vary") == "Accept, Accept-Encoding");
  CHECK(coded.body.size() * 4 < plain.body.size());
  auto decoded = test::Gunzip(coded.body);
  REQUIRE(decoded.ok());
  CHECK(*decoded == plain.body);
  CHECK(coded.Header("content-digest") == http::ContentDigestSha256(coded.body));
  CHECK(SignatureVerifies(coded, public_key));
  // The first answer was computed, the gzip one taken from the cache, unless
  // the second came after the entry's one second of life (a slow machine).
  const double hits = metric("gateway_answer_cache_hits_total") - hits_before;
  const double misses = metric("gateway_answer_cache_misses_total") - misses_before;
  CHECK(hits + misses == 2);
  if (std::chrono::steady_clock::now() - first_asked < std::chrono::milliseconds(900)) {
    CHECK(misses == 1);
    CHECK(hits == 1);
  } else {
    WARN("the repeat came after the cache entry's second: its source is not checked");
  }
  CHECK(test::MustGet(server.port(), table, unhcr, gzip).body == coded.body);

  // Refused explicitly, or an answer too short to be worth it: identity.
  auto refused = test::MustGet(server.port(), table, unhcr, {{"Accept-Encoding", "gzip;q=0, *"}});
  CHECK(refused.Header("content-encoding").empty());
  CHECK(refused.body == plain.body);
  auto small =
      test::MustGet(server.port(), "/v1/aggregates?ref_date=2015-06-30&by=sex", unhcr, gzip);
  REQUIRE(small.status == 200);
  REQUIRE(small.body.size() < 1024);
  CHECK(small.Header("content-encoding").empty());

  // A dp table's first release costs budget and is never cached: gzipped as released.
  auto first_dp = test::MustGet(server.port(), table, iom, gzip);
  REQUIRE(first_dp.status == 200);
  CHECK(first_dp.Header("content-encoding") == "gzip");
  auto first_dp_json = test::Gunzip(first_dp.body);
  REQUIRE(first_dp_json.ok());
  auto dp = nlohmann::json::parse(*first_dp_json);
  CHECK(dp["budget"][0]["cost"] == 0.5);
  CHECK(first_dp.Header("content-digest") == http::ContentDigestSha256(first_dp.body));
  CHECK(SignatureVerifies(first_dp, public_key));

  // CSV of the same dp table: a repeat, which costs nothing, so it is
  // computed on the pool, kept with its gzip coding, and the plain one follows
  // from the cache.
  const std::string csv_table = table + "&format=csv";
  auto csv = test::MustGet(server.port(), csv_table, iom, gzip);
  REQUIRE(csv.status == 200);
  CHECK(csv.Header("content-encoding") == "gzip");
  CHECK(csv.Header("vary") == "Accept-Encoding");  // format=csv: Accept chose nothing
  auto csv_plain = test::MustGet(server.port(), csv_table, iom);
  CHECK(csv_plain.Header("vary") == "Accept-Encoding");
  REQUIRE(csv_plain.body.size() >= 1024);
  auto csv_decoded = test::Gunzip(csv.body);
  REQUIRE(csv_decoded.ok());
  CHECK(*csv_decoded == csv_plain.body);

  // A table too large to be kept (over 256 KiB) is compressed as it is
  // released, at the fastest level.
  auto large = test::MustGet(server.port(), table + ",age", iom, gzip);
  REQUIRE(large.status == 200);
  CHECK(large.Header("content-encoding") == "gzip");
  auto large_json = test::Gunzip(large.body);
  REQUIRE(large_json.ok());
  CHECK(large_json->size() > size_t{256} << 10);
  CHECK(nlohmann::json::parse(*large_json)["budget"][0]["cost"] == 0.5);

  // The UNHCR-style endpoints release through the same path.
  const std::string demographics = "/v1/unhcr/demographics?year=2015&coa=KAZ&coo_all=true";
  auto unhcr_plain = test::MustGet(server.port(), demographics, unhcr);
  REQUIRE(unhcr_plain.status == 200);
  REQUIRE(unhcr_plain.body.size() >= 1024);
  auto unhcr_coded = test::MustGet(server.port(), demographics, unhcr, gzip);
  REQUIRE(unhcr_coded.status == 200);
  CHECK(unhcr_coded.Header("content-encoding") == "gzip");
  CHECK(unhcr_coded.Header("vary") == "Accept-Encoding");  // the format is always JSON
  auto unhcr_decoded = test::Gunzip(unhcr_coded.body);
  REQUIRE(unhcr_decoded.ok());
  CHECK(*unhcr_decoded == unhcr_plain.body);
  CHECK(SignatureVerifies(unhcr_coded, public_key));

  // The audit log has each release's coding and the digest of the bytes sent.
  const std::vector<testing::ClientResponse> released = {plain, coded,       coded,      refused,
                                                         small, first_dp,    csv,        csv_plain,
                                                         large, unhcr_plain, unhcr_coded};
  auto audit = nlohmann::json::parse(test::MustGet(server.port(), "/v1/audit?after=0", op).body);
  std::vector<nlohmann::json> releases;
  for (const auto& e : audit["entries"]) {
    if (e["kind"] == "aggregate.release") releases.push_back(e["detail"]);
  }
  REQUIRE(releases.size() == released.size());
  for (size_t i = 0; i < released.size(); ++i) {
    INFO("release " << i);
    CHECK(released[i].Header("content-digest") == http::ContentDigestSha256(released[i].body));
    CHECK(releases[i]["response_digest"] == released[i].Header("content-digest"));
    if (released[i].Header("content-encoding") == "gzip") {
      CHECK(releases[i]["content_encoding"] == "gzip");
      // The table itself is identified too, whatever its coding.
      auto table_bytes = test::Gunzip(released[i].body);
      REQUIRE(table_bytes.ok());
      CHECK(releases[i]["identity_digest"] == http::ContentDigestSha256(*table_bytes));
      // The coding is signed with the digest: a verifier knows what to decode.
      CHECK(released[i].Header("signature-input").find("\"content-encoding\"") !=
            std::string::npos);
      CHECK(SignatureVerifies(released[i], public_key));
    } else {
      CHECK_FALSE(releases[i].contains("content_encoding"));
      CHECK_FALSE(releases[i].contains("identity_digest"));
    }
  }
  CHECK(server.Stop() == 0);
  CHECK(test::RunGateway({"audit", "verify", "--dir", dir}).exit_code == 0);
}

}  // namespace gw
