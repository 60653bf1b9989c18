// Every route against every kind of caller: no credentials, a revoked token,
// a consumer, an operator. Deny by default.
#include <catch2/catch.hpp>

#include "gateway/http/message_signatures.h"
#include "gateway/storage/sqlite.h"
#include "support/http_calls.h"
#include "support/http_client.h"
#include "support/test_deployment.h"

namespace gw {
TEST_CASE("route x role matrix, audit of releases and signed responses", "[roles]") {
  test::TempDir tmp;
  const std::string dir = tmp.path() + "/gw";
  REQUIRE(test::RunGateway({"init", dir}).exit_code == 0);
  std::string consumer = test::FirstLine(test::RunGateway({"consumer", "add", "unhcr", "--dir", dir}));
  std::string op = test::FirstLine(test::RunGateway({"consumer", "add", "secretariat", "--dir", dir, "--role", "operator"}));
  std::string revoked = test::FirstLine(test::RunGateway({"consumer", "add", "gone", "--dir", dir}));
  REQUIRE(test::RunGateway({"consumer", "revoke", "gone", "--dir", dir}).exit_code == 0);
  test::WriteFile(dir + "/policies/kaz.toml", R"([[grant]]
country = "KAZ"
consumer = "unhcr"
pop_types = ["REF", "ASY", "STA", "MIG"]
dimensions = ["coo", "pop_type"]
mechanism = "sdc"
threshold = 5
)");
  REQUIRE(test::RunGateway({"ingest", "--dir", dir, "--country", "KAZ", "--ref-date", "2015-06-30", "--profile",
                            "kaz-1", "--partial", test::FixturePath("kaz-1.csv")})
              .exit_code == 0);
  test::ServerProcess server(dir);

  struct Row {
    std::string method, target;
    int none, revoked_token, consumer_token, operator_token;
  };
  const std::string agg = "/v1/aggregates?ref_date=2015-06-30&by=pop_type";
  const std::vector<Row> matrix = {
      {"GET", "/healthz", 200, 200, 200, 200},
      {"GET", "/v1/codelists", 200, 200, 200, 200},
      {"GET", "/v1/codelists/sex", 200, 200, 200, 200},
      {"GET", "/v1/keys", 200, 200, 200, 200},
      {"GET", agg, 401, 401, 200, 403},  // the operator holds no grant
      {"GET", "/v1/snapshots", 401, 401, 403, 200},
      {"GET", "/v1/audit?after=0", 401, 401, 403, 200},
      {"POST", "/v1/admin/reload", 401, 401, 403, 200},
      {"DELETE", "/v1/snapshots", 405, 405, 405, 405},
      {"GET", "/v1/persons", 404, 404, 404, 404},
  };
  for (const auto& row : matrix) {
    INFO(row.method << " " << row.target);
    CHECK(test::MustCall(server.port(), row.method, row.target, "").status == row.none);
    CHECK(test::MustCall(server.port(), row.method, row.target, revoked).status ==
          row.revoked_token);
    CHECK(test::MustCall(server.port(), row.method, row.target, consumer).status ==
          row.consumer_token);
    CHECK(test::MustCall(server.port(), row.method, row.target, op).status == row.operator_token);
  }

  // The aggregate answers are signed with the key published at /v1/keys.
  auto keys = nlohmann::json::parse(test::MustCall(server.port(), "GET", "/v1/keys", "").body);
  std::string public_key = *FromBase64(keys["gateway"]["public_key"].get<std::string>());
  auto answer = test::MustCall(server.port(), "GET", agg, consumer);
  REQUIRE(answer.status == 200);
  CHECK(answer.Header("content-digest") == http::ContentDigestSha256(answer.body));
  auto sig = http::ParseSignature(answer.Header("signature-input"), answer.Header("signature"));
  REQUIRE(sig.ok());
  CHECK(sig->keyid == keys["gateway"]["keyid"]);
  http::SignatureContext ctx;
  ctx.status = 200;
  ctx.header = [&](std::string_view name) -> std::optional<std::string> {
    std::string v = answer.Header(std::string(name));
    if (v.empty()) return std::nullopt;
    return v;
  };
  CHECK(http::VerifySignature(*sig, ctx, public_key).ok());

  // Every release is in the audit log, with its canonical query and digest.
  auto audit =
      nlohmann::json::parse(test::MustCall(server.port(), "GET", "/v1/audit?after=0", op).body);
  int releases = 0;
  bool policy_load = false;
  for (const auto& e : audit["entries"]) {
    if (e["kind"] == "aggregate.release") {
      ++releases;
      CHECK(e["actor"] == "unhcr");
      CHECK(e["detail"]["query"] == "ref_date=2015-06-30&by=pop_type&format=json");
    }
    policy_load |= e["kind"] == "policy.load";
  }
  CHECK(releases == 2);
  CHECK(policy_load);
  CHECK(server.Stop() == 0);
  auto verify = test::RunGateway({"audit", "verify", "--dir", dir});
  CHECK(verify.exit_code == 0);
  CHECK(verify.out.find("verified") != std::string::npos);

  // One altered audit row is named by `gateway audit verify`.
  {
    auto conn = sql::Connection::Open(dir + "/data/gateway.db", sql::Connection::Mode::kReadWrite);
    REQUIRE(conn.ok());
    REQUIRE((*conn)->Exec("UPDATE audit SET actor = 'someone-else' WHERE seq = 3").ok());
  }
  auto tampered = test::RunGateway({"audit", "verify", "--dir", dir});
  CHECK(tampered.exit_code == 1);
  CHECK(tampered.err.find("entry 3") != std::string::npos);
}

}  // namespace gw
