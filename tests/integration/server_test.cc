// End to end: the real `gateway` binary serving a real deployment on a
// loopback port the OS picks, queried over HTTP.
#include <catch2/catch.hpp>
#include <csignal>
#include <thread>

#include "support/http_calls.h"
#include "support/http_client.h"
#include "support/test_deployment.h"

namespace gw {
namespace {

constexpr const char* kNoneGrant = R"(
[[grant]]
country = "KAZ"
consumer = "unhcr"
pop_types = ["REF", "ASY", "STA", "MIG"]
dimensions = ["coa", "coo", "pop_type", "sex", "age", "region"]
mechanism = "none"
)";

}  // namespace

TEST_CASE("ingest with the CLI, serve, and query over HTTP: the truth's counts", "[integration]") {
  test::TempDir tmp;
  const std::string dir = tmp.path() + "/gw";
  REQUIRE(test::RunGateway({"init", dir}).exit_code == 0);
  auto added = test::RunGateway({"consumer", "add", "unhcr", "--dir", dir});
  REQUIRE(added.exit_code == 0);
  std::string token = added.out.substr(0, added.out.find('\n'));
  REQUIRE(token.rfind("gwt_", 0) == 0);
  test::WriteFile(dir + "/policies/kaz.toml", kNoneGrant);
  auto ingest = test::RunGateway({"ingest", "--dir", dir, "--country", "KAZ", "--ref-date", "2015-06-30",
                                  "--profile", "kaz-1", "--partial", test::FixturePath("kaz-1.csv")});
  REQUIRE(ingest.exit_code == 0);

  test::ServerProcess server(dir);
  auto truth = test::Truth("kaz-1.truth.json");

  SECTION("full breakdown equals the truth file's full counts") {
    auto r = test::MustGet(
        server.port(), "/v1/aggregates?ref_date=2015-06-30&by=pop_type,coo,sex,age,region", token);
    REQUIRE(r.status == 200);
    CHECK(r.Header("content-type").find("application/json") == 0);
    auto j = nlohmann::json::parse(r.body);
    CHECK(test::CountsByKey(j, {"pop_type", "coo", "sex", "age", "region"}) == test::TruthCounts(truth, "full"));
    CHECK(j["ref_date"] == "2015-06-30");
    CHECK(j["by"] == nlohmann::json::array({"pop_type", "coo", "sex", "age", "region"}));
    CHECK(j["sources"][0]["country"] == "KAZ");
  }
  SECTION("CSV by parameter and by Accept header") {
    auto r = test::MustGet(server.port(),
                           "/v1/aggregates?ref_date=2015-06-30&by=pop_type&format=csv", token);
    REQUIRE(r.status == 200);
    CHECK(r.Header("content-type").find("text/csv") == 0);
    std::string expected = "pop_type,value,status\r\n";
    for (const auto& [k, v] : truth["counts"]["pop_type"].items()) {
      expected += k + "," + std::to_string(v.get<int>()) + ",A\r\n";
    }
    CHECK(r.body == expected);
    auto a = test::MustGet(server.port(), "/v1/aggregates?ref_date=2015-06-30&by=pop_type", token,
                           {{"Accept", "text/csv"}});
    CHECK(a.body == expected);
  }
  SECTION("errors: no token 401, bad token 401, bad parameters 400, no data 404") {
    CHECK(test::MustGet(server.port(), "/v1/aggregates?ref_date=2015-06-30", "").status == 401);
    CHECK(test::MustGet(server.port(), "/v1/aggregates?ref_date=2015-06-30", "gwt_wrong").status ==
          401);
    auto bad = test::MustGet(server.port(), "/v1/aggregates?ref_date=2015-13-01", token);
    CHECK(bad.status == 400);
    CHECK(nlohmann::json::parse(bad.body)["error"]["message"].get<std::string>().find("ref_date") !=
          std::string::npos);
    auto unknown =
        test::MustGet(server.port(), "/v1/aggregates?ref_date=2015-06-30&colour=red", token);
    CHECK(unknown.status == 400);
    CHECK(unknown.body.find("colour") != std::string::npos);
    CHECK(
        test::MustGet(server.port(), "/v1/aggregates?ref_date=2015-06-30&coo=QQQ", token).status ==
        400);
    CHECK(test::MustGet(server.port(), "/v1/aggregates?ref_date=2016-12-31", token).status == 404);
    CHECK(test::MustGet(server.port(), "/v1/nothing", token).status == 404);
  }
  SECTION("another consumer without a grant gets 403") {
    auto iom = test::RunGateway({"consumer", "add", "iom", "--dir", dir});
    std::string iom_token = iom.out.substr(0, iom.out.find('\n'));
    auto r =
        test::MustGet(server.port(), "/v1/aggregates?ref_date=2015-06-30&by=pop_type", iom_token);
    CHECK(r.status == 403);
  }
  SECTION("snapshots, code lists and health") {
    CHECK(test::MustGet(server.port(), "/healthz", "").status == 200);
    auto op = test::RunGateway({"consumer", "add", "secretariat", "--dir", dir, "--role", "operator"});
    std::string op_token = op.out.substr(0, op.out.find('\n'));
    CHECK(test::MustGet(server.port(), "/v1/snapshots", token).status == 403);
    auto s = test::MustGet(server.port(), "/v1/snapshots", op_token);
    REQUIRE(s.status == 200);
    auto j = nlohmann::json::parse(s.body);
    REQUIRE(j["snapshots"].size() == 1);
    CHECK(j["snapshots"][0]["receipt"]["in_stock"] == truth["in_stock"]);
    auto c = test::MustGet(server.port(), "/v1/codelists/age_bands", "");
    REQUIRE(c.status == 200);
    CHECK(nlohmann::json::parse(c.body)["items"].size() == 6);
    CHECK(test::MustGet(server.port(), "/v1/codelists/nope", "").status == 404);
  }
  SECTION("SIGHUP reloads policies; a broken policy keeps the previous one") {
    test::WriteFile(dir + "/policies/zz-broken.toml", "[[grant]]\ncountry = 5\n");
    server.Signal(SIGHUP);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(test::MustGet(server.port(), "/v1/aggregates?ref_date=2015-06-30&by=pop_type", token)
              .status == 200);
    std::filesystem::remove(dir + "/policies/zz-broken.toml");
    std::filesystem::remove(dir + "/policies/kaz.toml");
    server.Signal(SIGHUP);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(test::MustGet(server.port(), "/v1/aggregates?ref_date=2015-06-30&by=pop_type", token)
              .status == 403);
  }
  CHECK(server.Stop() == 0);
}

}  // namespace gw
