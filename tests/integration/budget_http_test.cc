// The dp budget over HTTP against the real server: 429 with what remains,
// GET /v1/budget, and a race of concurrent clients that cannot overspend.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "support/http_calls.h"
#include "support/http_client.h"
#include "support/test_deployment.h"

namespace gw {
TEST_CASE("dp budget over HTTP: 429 when spent, GET /v1/budget, no overspending under a race", "[integration][budget]") {
  test::TempDir tmp;
  const std::string dir = tmp.path() + "/gw";
  REQUIRE(test::RunGateway({"init", dir}).exit_code == 0);
  std::string unhcr = test::FirstLine(test::RunGateway({"consumer", "add", "unhcr", "--dir", dir}));
  std::string iom = test::FirstLine(test::RunGateway({"consumer", "add", "iom", "--dir", dir}));
  std::string op = test::FirstLine(test::RunGateway({"consumer", "add", "secretariat", "--dir", dir, "--role", "operator"}));
  std::string grant = R"(
country = "KAZ"
pop_types = ["REF", "ASY", "STA", "MIG"]
dimensions = ["coa", "coo", "pop_type", "sex", "age", "region"]
mechanism = "dp"
epsilon = 0.5
budget = 2.0
threshold = 5
)";
  test::WriteFile(dir + "/policies/kaz.toml",
                  "[[grant]]\nconsumer = \"unhcr\"" + grant + "\n[[grant]]\nconsumer = \"iom\"" + grant);
  REQUIRE(test::RunGateway({"ingest", "--dir", dir, "--country", "KAZ", "--ref-date", "2015-06-30", "--profile",
                            "kaz-1", "--partial", test::FixturePath("kaz-1.csv")})
              .exit_code == 0);
  test::ServerProcess server(dir);
  const std::string base = "/v1/aggregates?ref_date=2015-06-30&by=";

  auto budget = nlohmann::json::parse(test::MustGet(server.port(), "/v1/budget", unhcr).body);
  REQUIRE(budget["budgets"].size() == 1);
  CHECK(budget["budgets"][0]["remaining"] == 2.0);
  CHECK(budget["budgets"][0]["new_tables_affordable"] == 4);

  for (const char* by : {"pop_type", "pop_type,coo", "pop_type,sex", "pop_type,age"}) {
    CHECK(test::MustGet(server.port(), base + by, unhcr).status == 200);
  }
  auto refused = test::MustGet(server.port(), base + "pop_type,region", unhcr);
  CHECK(refused.status == 429);
  auto error = nlohmann::json::parse(refused.body)["error"];
  CHECK(error["code"] == "resource_exhausted");
  CHECK(error["message"].get<std::string>().find("0 remains") != std::string::npos);
  // Repeats still answer, with the same numbers.
  auto first = test::MustGet(server.port(), base + "pop_type,coo", unhcr);
  auto again = test::MustGet(server.port(), base + "pop_type,coo", unhcr);
  CHECK(again.status == 200);
  CHECK(nlohmann::json::parse(first.body)["cells"] == nlohmann::json::parse(again.body)["cells"]);
  // And another consumer gets the same numbers from its own budget.
  auto other = test::MustGet(server.port(), base + "pop_type,coo", iom);
  CHECK(nlohmann::json::parse(other.body)["cells"] == nlohmann::json::parse(first.body)["cells"]);

  budget = nlohmann::json::parse(test::MustGet(server.port(), "/v1/budget", unhcr).body);
  CHECK(budget["budgets"][0]["spent"] == 2.0);
  CHECK(budget["budgets"][0]["remaining"] == 0);
  CHECK(budget["budgets"][0]["tables_released"] == 4);
  CHECK(test::MustGet(server.port(), "/v1/budget?consumer=iom", unhcr).status == 403);
  auto all = nlohmann::json::parse(test::MustGet(server.port(), "/v1/budget", op).body);
  CHECK(all["budgets"].size() == 2);

  // The race: 12 clients at once, each asking for a different new table as
  // iom, whose remaining budget (1.5) buys exactly 3.
  const std::vector<std::string> tables = {
      "pop_type",          "pop_type,sex",        "pop_type,age",           "pop_type,region",
      "pop_type,coo,sex",  "pop_type,coo,age",    "pop_type,sex,age",       "pop_type,region,sex",
      "pop_type,age,region", "pop_type,coo,region", "pop_type,coo,sex,age", "pop_type,sex,age,region"};
  std::atomic<int> ok{0}, exhausted{0}, other_status{0};
  std::vector<std::thread> clients;
  for (const auto& t : tables) {
    clients.emplace_back([&, t] {
      testing::HttpClient client(server.port(), std::chrono::milliseconds(20000));
      if (!client.Connect().ok()) {
        ++other_status;
        return;
      }
      auto r = client.Send("GET", base + t, {}, {{"Authorization", "Bearer " + iom}});
      if (!r.ok()) ++other_status;
      else if (r->status == 200) ++ok;
      else if (r->status == 429) ++exhausted;
      else ++other_status;
    });
  }
  for (auto& c : clients) c.join();
  CHECK(other_status == 0);
  CHECK(ok == 3);
  CHECK(exhausted == 9);
  auto iom_budget = nlohmann::json::parse(test::MustGet(server.port(), "/v1/budget", iom).body);
  CHECK(iom_budget["budgets"][0]["spent"] == 2.0);
  CHECK(iom_budget["budgets"][0]["tables_released"] == 4);
}

}  // namespace gw
