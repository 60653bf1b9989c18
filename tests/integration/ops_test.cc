// Operations routes against the real server: /readyz, /metrics as Prometheus
// text after real traffic, the JSON request log, and `gateway snapshots`.
#include <catch2/catch.hpp>

#include <fstream>

#include "support/http_calls.h"
#include "support/http_client.h"
#include "support/prometheus_text.h"
#include "support/test_deployment.h"

namespace gw {
TEST_CASE("readyz, metrics and snapshots for operators", "[integration][ops]") {
  test::TempDir tmp;
  const std::string dir = tmp.path() + "/gw";
  REQUIRE(test::RunGateway({"init", dir}).exit_code == 0);
  std::string op = test::FirstLine(test::RunGateway({"consumer", "add", "secretariat", "--dir", dir, "--role", "operator"}));
  std::string unhcr = test::FirstLine(test::RunGateway({"consumer", "add", "unhcr", "--dir", dir}));
  test::WriteFile(dir + "/policies/p.toml", R"([[grant]]
country = "KAZ"
consumer = "unhcr"
pop_types = ["REF", "ASY", "STA", "MIG"]
dimensions = ["coa", "coo", "pop_type", "sex", "age", "region"]
mechanism = "dp"
epsilon = 0.5
budget = 2.0
threshold = 5
)");
  REQUIRE(test::RunGateway({"ingest", "--dir", dir, "--country", "KAZ", "--ref-date", "2015-06-30", "--profile",
                            "kaz-1", "--partial", test::FixturePath("kaz-1.csv")}).exit_code == 0);

  // gateway snapshots: every version with its receipt figures.
  auto listed = test::RunGateway({"snapshots", "--dir", dir});
  CHECK(listed.exit_code == 0);
  CHECK(listed.out.find("KAZ") != std::string::npos);
  CHECK(listed.out.find("2015-06-30") != std::string::npos);
  CHECK(listed.out.find("in_stock=87") != std::string::npos);
  auto as_json = test::RunGateway({"snapshots", "--dir", dir, "--json"});
  auto j = nlohmann::json::parse(as_json.out);
  REQUIRE(j["snapshots"].size() == 1);
  CHECK(j["snapshots"][0]["receipt"]["in_stock"] == 87);

  test::ServerProcess server(dir);
  auto ready = test::MustGet(server.port(), "/readyz");
  CHECK(ready.status == 200);
  CHECK(nlohmann::json::parse(ready.body)["status"] == "ready");

  CHECK(test::MustGet(server.port(), "/v1/aggregates?ref_date=2015-06-30&by=pop_type", unhcr)
            .status == 200);
  CHECK(test::MustGet(server.port(), "/v1/aggregates?ref_date=2015-06-30&by=nonsense", unhcr)
            .status == 400);
  CHECK(test::MustGet(server.port(), "/metrics").status == 401);
  CHECK(test::MustGet(server.port(), "/metrics", unhcr).status == 403);
  auto metrics = test::MustGet(server.port(), "/metrics", op);
  REQUIRE(metrics.status == 200);
  CHECK(metrics.Header("content-type").find("text/plain; version=0.0.4") == 0);
  const std::string& m = metrics.body;
  CHECK(m.find("gateway_http_requests_total{method=\"GET\",route=\"/v1/aggregates\",status=\"200\"} 1\n") != std::string::npos);
  CHECK(m.find("gateway_http_requests_total{method=\"GET\",route=\"/v1/aggregates\",status=\"400\"} 1\n") != std::string::npos);
  CHECK(m.find("gateway_http_request_duration_seconds_bucket{route=\"/v1/aggregates\",le=\"+Inf\"} 2\n") != std::string::npos);
  CHECK(m.find("gateway_snapshot_versions{country=\"KAZ\"} 1\n") != std::string::npos);
  CHECK(m.find("gateway_budget_spent_epsilon{consumer=\"unhcr\",country=\"KAZ\"} 0.5\n") != std::string::npos);
  // The whole scrape is well-formed text format 0.0.4 (the strict reader the
  // unit test of Metrics uses), with the server's own families after the
  // Metrics ones.
  const test::Exposition parsed = test::MustParseExposition(m);
  size_t samples = 0;
  for (const auto& [name, family] : parsed.families) samples += family.samples.size();
  CHECK(samples > 20);
  auto total = [](const test::Exposition& e, const std::string& name) {
    return test::SampleValue(e, name).value_or(-1.0);
  };

  // The audit thread's totals: counters that grow by one entry per release.
  for (const char* name : {"gateway_audit_commits_total", "gateway_audit_failed_commits_total",
                           "gateway_audit_entries_total", "gateway_audit_commit_seconds_total",
                           "gateway_audit_wait_seconds_total", "gateway_answer_cache_hits_total",
                           "gateway_answer_cache_misses_total"}) {
    INFO(name);
    REQUIRE(parsed.families.count(name) == 1);
    CHECK(parsed.families.at(name).type == "counter");
  }
  const double entries = total(parsed, "gateway_audit_entries_total");
  CHECK(entries >= 2);  // the policy load at start and the release above
  CHECK(total(parsed, "gateway_audit_commits_total") >= 1);
  CHECK(total(parsed, "gateway_audit_failed_commits_total") == 0);
  CHECK(total(parsed, "gateway_audit_wait_seconds_total") >=
        total(parsed, "gateway_audit_commit_seconds_total"));
  REQUIRE(test::MustGet(server.port(), "/v1/aggregates?ref_date=2015-06-30&by=pop_type", unhcr)
              .status == 200);
  auto scrape = [&] {
    return test::MustParseExposition(test::MustGet(server.port(), "/metrics", op).body);
  };
  const test::Exposition later = scrape();
  CHECK(total(later, "gateway_audit_entries_total") == entries + 1);
  // The answer cache: the first dp release costs budget and is not kept, so
  // its repeat is computed too; a malformed query (400) and a refusal from the
  // store (no snapshot for that date) count as neither.
  CHECK(total(parsed, "gateway_answer_cache_misses_total") == 1);
  CHECK(total(later, "gateway_answer_cache_misses_total") == 2);
  CHECK(total(later, "gateway_answer_cache_hits_total") == 0);
  CHECK(test::MustGet(server.port(), "/v1/aggregates?ref_date=2016-06-30&by=pop_type", unhcr)
            .status == 404);
  CHECK(total(scrape(), "gateway_answer_cache_misses_total") == 2);

  // Output formats, by parameter and by Accept header; the numbers are the same dp values.
  auto json_answer = nlohmann::json::parse(
      test::MustGet(server.port(), "/v1/aggregates?ref_date=2015-06-30&by=pop_type", unhcr).body);
  auto csv = test::MustGet(server.port(),
                           "/v1/aggregates?ref_date=2015-06-30&by=pop_type&format=csv", unhcr);
  CHECK(csv.Header("content-type") == "text/csv; charset=utf-8");
  CHECK(csv.body.rfind("pop_type,value,status\r\n", 0) == 0);
  {
    testing::HttpClient client(server.port(), std::chrono::milliseconds(10000));
    REQUIRE(client.Connect().ok());
    auto sdmx = client.Send("GET", "/v1/aggregates?ref_date=2015-06-30&by=pop_type", {},
                            {{"Authorization", "Bearer " + unhcr}, {"Accept", "application/vnd.sdmx.data+csv; version=2.0.0"}});
    REQUIRE(sdmx.ok());
    CHECK(sdmx->Header("content-type").rfind("application/vnd.sdmx.data+csv", 0) == 0);
    CHECK(sdmx->Header("vary") == "Accept, Accept-Encoding");  // the format came from Accept
    CHECK(sdmx->body.rfind("STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA,ORIGIN,POP_TYPE,SEX,AGE,ADMIN1,TIME_PERIOD,"
                           "OBS_VALUE,OBS_STATUS,CONF_STATUS\r\n", 0) == 0);
    for (const auto& cell : json_answer["cells"]) {
      std::string row = "dataflow,CAMG:DF_MIGRATION_STOCKS(1.0.0),I,_T,_T," + cell["pop_type"].get<std::string>() +
                        ",_T,_T,_T,2015-06-30," +
                        (cell["value"].is_null() ? std::string(",O,C") : std::to_string(cell["value"].get<int>()) + ",E,F");
      INFO(sdmx->body);
      CHECK(sdmx->body.find(row + "\r\n") != std::string::npos);
    }
  }
  auto sdmx_json = nlohmann::json::parse(
      test::MustGet(server.port(),
                    "/v1/aggregates?ref_date=2015-06-30&by=pop_type&format=sdmx-json", unhcr)
          .body);
  CHECK(sdmx_json["data"]["dataSets"][0]["observations"].size() == json_answer["cells"].size());
  CHECK(test::MustGet(server.port(), "/v1/aggregates?ref_date=2015-06-30&by=pop_type&format=xml",
                      unhcr)
            .status == 400);

  // The request log: one JSON line per request with route, status, duration and role, never a token.
  server.Stop();
  std::ifstream log(dir + "/server.stderr.log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  if (text.empty()) {
    FAIL("server log not found at " << dir << "/server.stderr.log");
  } else {
    CHECK(text.find(unhcr) == std::string::npos);
    CHECK(text.find(op) == std::string::npos);
    CHECK(text.find("\"route\":\"/v1/aggregates\"") != std::string::npos);
    CHECK(text.find("\"role\":\"consumer\"") != std::string::npos);
  }
}

}  // namespace gw
