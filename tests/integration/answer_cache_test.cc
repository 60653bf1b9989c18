// Repeated queries are answered from memory (see docs/architecture.md,
// "Threads and the query path"), but never past a change: a token revoked or a
// snapshot committed by a CLI command in another process is seen by the very
// next request, and every answer, cached or not, is audited and signed.
#include <catch2/catch.hpp>

#include "gateway/http/message_signatures.h"
#include "support/http_calls.h"
#include "support/http_client.h"
#include "support/test_deployment.h"

namespace gw {
TEST_CASE("cached answers follow revocations and new snapshots made by other processes", "[cache][roles]") {
  test::TempDir tmp;
  const std::string dir = tmp.path() + "/gw";
  REQUIRE(test::RunGateway({"init", dir}).exit_code == 0);
  const std::string unhcr = test::FirstLine(test::RunGateway({"consumer", "add", "unhcr", "--dir", dir}));
  const std::string iom = test::FirstLine(test::RunGateway({"consumer", "add", "iom", "--dir", dir}));
  const std::string op = test::FirstLine(test::RunGateway({"consumer", "add", "ops", "--dir", dir, "--role", "operator"}));
  std::string grants;
  for (const char* consumer : {"unhcr", "iom"}) {
    grants += std::string("[[grant]]\ncountry = \"KAZ\"\nconsumer = \"") + consumer +
              "\"\npop_types = [\"REF\", \"ASY\", \"STA\", \"MIG\"]\ndimensions = [\"coo\", \"pop_type\"]\n"
              "mechanism = \"sdc\"\nthreshold = 5\n\n";
  }
  test::WriteFile(dir + "/policies/kaz.toml", grants);
  // The same register, then without its last row: a different file, so a new version.
  const std::string full = test::FixturePath("kaz-1.csv");
  std::string text = test::ReadFile(full);
  text.erase(text.find_last_of('\n', text.size() - 2) + 1);
  const std::string shorter = tmp.path() + "/kaz-1-shorter.csv";
  test::WriteFile(shorter, text);
  auto ingest = [&](const std::string& file) {
    return test::RunGateway({"ingest", "--dir", dir, "--country", "KAZ", "--ref-date", "2015-06-30", "--profile",
                             "kaz-1", "--partial", file});
  };
  REQUIRE(ingest(full).exit_code == 0);
  test::ServerProcess server(dir);
  const std::string agg = "/v1/aggregates?ref_date=2015-06-30&by=pop_type";

  auto first = test::MustGet(server.port(), agg, unhcr);
  REQUIRE(first.status == 200);
  for (int i = 0; i < 5; ++i) {
    auto repeat = test::MustGet(server.port(), agg, unhcr);
    REQUIRE(repeat.status == 200);
    CHECK(repeat.body == first.body);
    CHECK(repeat.Header("content-digest") == http::ContentDigestSha256(repeat.body));
    CHECK(!repeat.Header("signature").empty());
  }
  CHECK(nlohmann::json::parse(first.body)["sources"][0]["version"] == 1);
  REQUIRE(test::MustGet(server.port(), agg, iom).status == 200);

  // A new version committed by the CLI: the next answer is computed from it.
  REQUIRE(ingest(shorter).exit_code == 0);
  auto after_ingest = test::MustGet(server.port(), agg, unhcr);
  REQUIRE(after_ingest.status == 200);
  CHECK(nlohmann::json::parse(after_ingest.body)["sources"][0]["version"] == 2);

  // A token revoked by the CLI stops working with the next request; another
  // consumer's cached answer is not served to anyone else.
  REQUIRE(test::RunGateway({"consumer", "revoke", "unhcr", "--dir", dir}).exit_code == 0);
  CHECK(test::MustGet(server.port(), agg, unhcr).status == 401);
  CHECK(test::MustGet(server.port(), agg, iom).status == 200);

  // Every release was audited, cached or not: 6 + 1 + 1 + 1 (the 401 is not a release).
  auto audit = nlohmann::json::parse(test::MustGet(server.port(), "/v1/audit?after=0", op).body);
  int releases = 0;
  for (const auto& e : audit["entries"]) releases += e["kind"] == "aggregate.release";
  CHECK(releases == 9);
  CHECK(server.Stop() == 0);
  auto verify = test::RunGateway({"audit", "verify", "--dir", dir});
  CHECK(verify.exit_code == 0);
}

}  // namespace gw
