#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "gateway/http/metrics.h"
#include "support/prometheus_text.h"

namespace {

using gw::http::Metrics;
using gw::test::Exposition;
using gw::test::Family;
using gw::test::Labels;
using gw::test::MustParseExposition;
using gw::test::Sample;
using gw::test::SampleValue;
using std::chrono::microseconds;

const std::vector<std::string> kLe = {"0.0005", "0.001", "0.0025", "0.005", "0.01",
                                      "0.025",  "0.05",  "0.1",    "0.25",  "0.5",
                                      "1",      "2.5",   "5",      "10",    "+Inf"};

constexpr std::string_view kSnapshotRoute = "/v1/snapshots/{country}/{ref_date}";

}  // namespace

TEST_CASE("Metrics renders every family with HELP and TYPE even when empty", "[metrics]") {
  Metrics metrics;
  Exposition exposition = MustParseExposition(metrics.Render({}));
  CHECK(exposition.order == std::vector<std::string>{"gateway_http_requests_total",
                                                     "gateway_http_request_duration_seconds",
                                                     "gateway_ingested_rows_total",
                                                     "gateway_ingested_bytes_total",
                                                     "gateway_process_start_time_seconds"});
  CHECK(exposition.families["gateway_http_requests_total"].type == "counter");
  CHECK(exposition.families["gateway_http_request_duration_seconds"].type == "histogram");
  CHECK(exposition.families["gateway_ingested_rows_total"].type == "counter");
  CHECK(exposition.families["gateway_ingested_bytes_total"].type == "counter");
  CHECK(exposition.families["gateway_process_start_time_seconds"].type == "gauge");

  auto start = SampleValue(exposition, "gateway_process_start_time_seconds", {});
  REQUIRE(start);
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(*start <= now);
  CHECK(*start > now - 60);
  CHECK(gw::http::kMetricsContentType == "text/plain; version=0.0.4; charset=utf-8");
}

TEST_CASE("Metrics counts requests exactly by method, route and status", "[metrics]") {
  Metrics metrics;
  for (int i = 0; i < 3; ++i) metrics.ObserveRequest("GET", "/healthz", 200, microseconds(100));
  metrics.ObserveRequest("PUT", kSnapshotRoute, 201, microseconds(1500));
  metrics.ObserveRequest("PUT", kSnapshotRoute, 400, microseconds(700));
  metrics.ObserveRequest("PUT", kSnapshotRoute, 201, microseconds(900));
  metrics.ObserveRequest("GET", "unmatched", 404, microseconds(50));
  metrics.ObserveRequest("GET", "", 404, microseconds(50));  // empty route: "unmatched"
  metrics.ObserveRequest("BREW", "unmatched", 405, microseconds(10));
  metrics.ObserveRequest("get", "/healthz", 405, microseconds(10));  // methods are case-sensitive
  metrics.ObserveRequest("PATCH", "/healthz", 405, microseconds(10));

  Exposition exposition = MustParseExposition(metrics.Render({}));
  const std::string name = "gateway_http_requests_total";
  CHECK(SampleValue(exposition, name,
                    {{"method", "GET"}, {"route", "/healthz"}, {"status", "200"}}) == 3.0);
  CHECK(SampleValue(
            exposition, name,
            {{"method", "PUT"}, {"route", std::string(kSnapshotRoute)}, {"status", "201"}}) == 2.0);
  CHECK(SampleValue(
            exposition, name,
            {{"method", "PUT"}, {"route", std::string(kSnapshotRoute)}, {"status", "400"}}) == 1.0);
  CHECK(SampleValue(exposition, name,
                    {{"method", "GET"}, {"route", "unmatched"}, {"status", "404"}}) == 2.0);
  CHECK(SampleValue(exposition, name,
                    {{"method", "other"}, {"route", "unmatched"}, {"status", "405"}}) == 1.0);
  CHECK(SampleValue(exposition, name,
                    {{"method", "other"}, {"route", "/healthz"}, {"status", "405"}}) == 2.0);
  CHECK(exposition.families[name].samples.size() == 6);
  for (const Sample& sample : exposition.families[name].samples) {
    CHECK(sample.labels.at("method") != "BREW");
    CHECK(sample.labels.at("method") != "get");
    CHECK(sample.labels.at("method") != "PATCH");
  }

  SECTION("all six kept methods are kept") {
    Metrics kept;
    for (const char* method : {"GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS"}) {
      kept.ObserveRequest(method, "/x", 200, microseconds(1));
    }
    Exposition parsed = MustParseExposition(kept.Render({}));
    for (const char* method : {"GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS"}) {
      INFO(method);
      CHECK(SampleValue(parsed, name, {{"method", method}, {"route", "/x"}, {"status", "200"}}) ==
            1.0);
    }
  }
}

TEST_CASE("Metrics histogram buckets are cumulative, +Inf equals _count, _sum is exact",
          "[metrics]") {
  Metrics metrics;
  const std::string route = "/v1/aggregates";
  // On a boundary (le is inclusive), just above one, zero, negative, past the last bound.
  const std::vector<int64_t> durations = {0,      500,    501,     1000,     2400,     99999,
                                          100000, 250001, 1000000, 10000000, 10000001, -5};
  int64_t sum_micros = 0;
  for (int64_t micros : durations) {
    metrics.ObserveRequest("GET", route, 200, microseconds(micros));
    sum_micros += micros < 0 ? 0 : micros;
  }
  metrics.ObserveRequest("GET", "/healthz", 200, microseconds(3));

  Exposition exposition = MustParseExposition(metrics.Render({}));
  const Family& family = exposition.families["gateway_http_request_duration_seconds"];

  std::vector<std::string> le_seen;
  std::vector<double> counts;
  for (const Sample& sample : family.samples) {
    if (sample.name != "gateway_http_request_duration_seconds_bucket") continue;
    if (sample.labels.at("route") != route) continue;
    REQUIRE(sample.labels.size() == 2);
    le_seen.push_back(sample.labels.at("le"));
    counts.push_back(sample.value);
  }
  REQUIRE(le_seen == kLe);
  for (size_t i = 1; i < counts.size(); ++i) CHECK(counts[i] >= counts[i - 1]);

  // Expected cumulative counts, by hand: le 0.0005 holds 0, 500 and -5 (as 0).
  const std::vector<double> expected = {3, 5, 6, 6, 6, 6, 6, 8, 8, 9, 10, 10, 10, 11, 12};
  CHECK(counts == expected);

  auto count =
      SampleValue(exposition, "gateway_http_request_duration_seconds_count", {{"route", route}});
  REQUIRE(count);
  CHECK(*count == static_cast<double>(durations.size()));
  CHECK(counts.back() == *count);
  auto sum =
      SampleValue(exposition, "gateway_http_request_duration_seconds_sum", {{"route", route}});
  REQUIRE(sum);
  CHECK(*sum == static_cast<double>(sum_micros) / 1e6);

  // Other routes get their own series; nothing else leaks into this one.
  CHECK(SampleValue(exposition, "gateway_http_request_duration_seconds_count",
                    {{"route", "/healthz"}}) == 1.0);
  CHECK(SampleValue(exposition, "gateway_http_request_duration_seconds_bucket",
                    {{"route", "/healthz"}, {"le", "0.0005"}}) == 1.0);
  CHECK(family.samples.size() == 2 * (kLe.size() + 2));
}

TEST_CASE("Metrics counts ingested rows and bytes per country and outcome", "[metrics]") {
  Metrics metrics;
  metrics.AddIngest("KAZ", "committed", 97, 12345);
  metrics.AddIngest("KAZ", "committed", 3, 55);
  metrics.AddIngest("KAZ", "rejected", 10, 1000);
  metrics.AddIngest("UZB", "committed", 4000000000LL, 9000000000000LL);
  metrics.AddIngest("TJK", "exploded", 1, 2);     // unknown outcome: "other"
  metrics.AddIngest("TKM", "committed", -5, -7);  // counters never go down

  Exposition exposition = MustParseExposition(metrics.Render({}));
  const std::string rows = "gateway_ingested_rows_total";
  const std::string bytes = "gateway_ingested_bytes_total";
  CHECK(SampleValue(exposition, rows, {{"country", "KAZ"}, {"outcome", "committed"}}) == 100.0);
  CHECK(SampleValue(exposition, bytes, {{"country", "KAZ"}, {"outcome", "committed"}}) == 12400.0);
  CHECK(SampleValue(exposition, rows, {{"country", "KAZ"}, {"outcome", "rejected"}}) == 10.0);
  CHECK(SampleValue(exposition, bytes, {{"country", "KAZ"}, {"outcome", "rejected"}}) == 1000.0);
  CHECK(SampleValue(exposition, rows, {{"country", "UZB"}, {"outcome", "committed"}}) ==
        4000000000.0);
  CHECK(SampleValue(exposition, bytes, {{"country", "UZB"}, {"outcome", "committed"}}) ==
        9000000000000.0);
  CHECK(SampleValue(exposition, rows, {{"country", "TJK"}, {"outcome", "other"}}) == 1.0);
  CHECK(SampleValue(exposition, rows, {{"country", "TKM"}, {"outcome", "committed"}}) == 0.0);
  CHECK(SampleValue(exposition, bytes, {{"country", "TKM"}, {"outcome", "committed"}}) == 0.0);
}

TEST_CASE("Metrics escapes label values and replaces invalid UTF-8", "[metrics]") {
  Metrics metrics;
  const std::string nasty = "a\"b\\c\nd";
  metrics.ObserveRequest("GET", nasty, 200, microseconds(1));
  metrics.AddIngest(nasty, "committed", 1, 1);
  metrics.AddIngest("K\xFFZ", "committed", 1, 1);            // a stray byte
  metrics.AddIngest("\xD0\x9A\xD0\x90", "committed", 1, 1);  // "КА": valid, kept as is
  const std::string text = metrics.Render({});

  CHECK(text.find(R"(route="a\"b\\c\nd")") != std::string::npos);
  CHECK(text.find(nasty) == std::string::npos);  // never raw

  Exposition exposition = MustParseExposition(text);
  CHECK(SampleValue(exposition, "gateway_http_requests_total",
                    {{"method", "GET"}, {"route", nasty}, {"status", "200"}}) == 1.0);
  CHECK(SampleValue(exposition, "gateway_http_request_duration_seconds_count",
                    {{"route", nasty}}) == 1.0);
  CHECK(SampleValue(exposition, "gateway_ingested_rows_total",
                    {{"country", nasty}, {"outcome", "committed"}}) == 1.0);
  CHECK(SampleValue(exposition, "gateway_ingested_rows_total",
                    {{"country", "K\xEF\xBF\xBDZ"}, {"outcome", "committed"}}) == 1.0);
  CHECK(SampleValue(exposition, "gateway_ingested_rows_total",
                    {{"country", "\xD0\x9A\xD0\x90"}, {"outcome", "committed"}}) == 1.0);
  CHECK(text.find("\xFF") == std::string::npos);
}

TEST_CASE("Metrics renders the caller's gauges after its own families", "[metrics]") {
  Metrics metrics;
  metrics.ObserveRequest("GET", "/healthz", 200, microseconds(1));
  std::vector<Metrics::Gauge> gauges = {
      {"gateway_snapshots",
       "Current snapshots per country.\nOne line \\ per country.",
       {{{{"country", "UZB"}}, 2}, {{{"country", "KAZ"}}, 5}, {{{"country", "KGZ"}}, 0}}},
      {"gateway_budget_spent_epsilon",
       "Privacy budget spent.",
       {{{{"consumer", "unhcr"}, {"country", "KAZ"}}, 0.1},
        {{{"consumer", "iom\"x"}, {"country", "KAZ"}}, 1.5},
        {{{"consumer", "unhcr"}, {"country", "KAZ"}}, 99},  // duplicate label set: dropped
        {{{"consumer", "cap"}, {"country", "KAZ"}}, HUGE_VAL},
        {{{"bad-label", "x"}}, 3}}},  // invalid label name: dropped
      {"gateway_up", "", {{{}, 1}}},
      {"gateway_audit_entries_total", "A caller's counter.", {{{}, 42}}, true},
      {"9bad name", "invalid metric name: dropped", {{{}, 1}}},
      {"gateway_http_requests_total", "clashes with a counter: dropped", {{{}, 1}}},
      {"gateway_http_request_duration_seconds_count", "clashes with the histogram", {{{}, 1}}},
      {"gateway_snapshots", "repeated family: dropped", {{{}, 7}}},
  };
  const std::string text = metrics.Render(gauges);
  Exposition exposition = MustParseExposition(text);

  CHECK(exposition.order ==
        std::vector<std::string>{
            "gateway_http_requests_total", "gateway_http_request_duration_seconds",
            "gateway_ingested_rows_total", "gateway_ingested_bytes_total",
            "gateway_process_start_time_seconds", "gateway_snapshots",
            "gateway_budget_spent_epsilon", "gateway_up", "gateway_audit_entries_total"});
  for (const char* name : {"gateway_snapshots", "gateway_budget_spent_epsilon", "gateway_up"}) {
    CHECK(exposition.families[name].type == "gauge");
  }
  CHECK(exposition.families["gateway_audit_entries_total"].type == "counter");
  CHECK(SampleValue(exposition, "gateway_audit_entries_total", {}) == 42.0);
  CHECK(text.find("# HELP gateway_snapshots Current snapshots per country.\\nOne line \\\\ per "
                  "country.\n") != std::string::npos);
  CHECK(text.find("# HELP gateway_up\n") != std::string::npos);

  // Sorted by label values, whatever order they were given in.
  const auto& snapshots = exposition.families["gateway_snapshots"].samples;
  REQUIRE(snapshots.size() == 3);
  CHECK(snapshots[0].labels.at("country") == "KAZ");
  CHECK(snapshots[0].value == 5.0);
  CHECK(snapshots[1].labels.at("country") == "KGZ");
  CHECK(snapshots[2].labels.at("country") == "UZB");

  const auto& budget = exposition.families["gateway_budget_spent_epsilon"].samples;
  REQUIRE(budget.size() == 3);
  CHECK(SampleValue(exposition, "gateway_budget_spent_epsilon",
                    {{"consumer", "unhcr"}, {"country", "KAZ"}}) == 0.1);  // the first one kept
  CHECK(SampleValue(exposition, "gateway_budget_spent_epsilon",
                    {{"consumer", "iom\"x"}, {"country", "KAZ"}}) == 1.5);
  CHECK(text.find("gateway_budget_spent_epsilon{consumer=\"cap\",country=\"KAZ\"} +Inf\n") !=
        std::string::npos);
  CHECK(text.find("gateway_budget_spent_epsilon{consumer=\"unhcr\",country=\"KAZ\"} 0.1\n") !=
        std::string::npos);
  CHECK(SampleValue(exposition, "gateway_up", {}) == 1.0);
  CHECK(text.find("9bad") == std::string::npos);
  CHECK(text.find("bad-label") == std::string::npos);
  CHECK(text.find("clashes") == std::string::npos);
  CHECK(text.find("repeated family") == std::string::npos);
}

TEST_CASE("Metrics renders deterministically, samples sorted", "[metrics]") {
  Metrics a;
  Metrics b;
  // Same observations in different orders.
  a.ObserveRequest("PUT", "/b", 201, microseconds(10));
  a.ObserveRequest("GET", "/b", 200, microseconds(20));
  a.ObserveRequest("GET", "/a", 500, microseconds(30));
  a.ObserveRequest("GET", "/a", 200, microseconds(40));
  a.AddIngest("UZB", "committed", 1, 2);
  a.AddIngest("KAZ", "rejected", 3, 4);
  b.AddIngest("KAZ", "rejected", 3, 4);
  b.AddIngest("UZB", "committed", 1, 2);
  b.ObserveRequest("GET", "/a", 200, microseconds(40));
  b.ObserveRequest("GET", "/a", 500, microseconds(30));
  b.ObserveRequest("GET", "/b", 200, microseconds(20));
  b.ObserveRequest("PUT", "/b", 201, microseconds(10));

  // The start times differ; compare everything else.
  auto without_start = [](std::string text) {
    size_t at = text.find("\ngateway_process_start_time_seconds ");
    REQUIRE(at != std::string::npos);
    size_t end = text.find('\n', at + 1);
    return text.erase(at, end - at);
  };
  const std::string text = a.Render({});
  CHECK(text == a.Render({}));
  CHECK(without_start(text) == without_start(b.Render({})));

  Exposition exposition = MustParseExposition(text);
  std::vector<std::string> order;
  for (const Sample& sample : exposition.families["gateway_http_requests_total"].samples) {
    order.push_back(sample.labels.at("method") + " " + sample.labels.at("route") + " " +
                    sample.labels.at("status"));
  }
  CHECK(order == std::vector<std::string>{"GET /a 200", "GET /a 500", "GET /b 200", "PUT /b 201"});
  const auto& rows = exposition.families["gateway_ingested_rows_total"].samples;
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].labels.at("country") == "KAZ");
  CHECK(rows[1].labels.at("country") == "UZB");
}

TEST_CASE("Metrics loses no observation under concurrent writers", "[metrics]") {
  Metrics metrics;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < kPerThread; ++i) {
        metrics.ObserveRequest("GET", "/v1/aggregates", 200, microseconds(1000));
        if (i % 1000 == 0) metrics.AddIngest("KAZ", "committed", 1, t);
      }
    });
  }
  // A scrape while they write must see a consistent, parseable state.
  std::string during = metrics.Render({});
  for (std::thread& thread : threads) thread.join();
  MustParseExposition(during);

  Exposition exposition = MustParseExposition(metrics.Render({}));
  const double total = kThreads * kPerThread;
  CHECK(SampleValue(exposition, "gateway_http_requests_total",
                    {{"method", "GET"}, {"route", "/v1/aggregates"}, {"status", "200"}}) == total);
  CHECK(SampleValue(exposition, "gateway_http_request_duration_seconds_count",
                    {{"route", "/v1/aggregates"}}) == total);
  CHECK(SampleValue(exposition, "gateway_http_request_duration_seconds_bucket",
                    {{"route", "/v1/aggregates"}, {"le", "0.001"}}) == total);
  CHECK(SampleValue(exposition, "gateway_http_request_duration_seconds_sum",
                    {{"route", "/v1/aggregates"}}) == total * 0.001);
  CHECK(SampleValue(exposition, "gateway_ingested_rows_total",
                    {{"country", "KAZ"}, {"outcome", "committed"}}) == kThreads * 10.0);
}

// The checks above are only as strict as the parser: make sure it refuses
// what Prometheus would.
TEST_CASE("The test's exposition parser refuses malformed text", "[metrics]") {
  const std::vector<std::string> bad = {
      "x 1\n",                                                            // no HELP/TYPE
      "# HELP x h\nx 1\n",                                                // sample before TYPE
      "# TYPE x counter\n# HELP x h\nx 1\n",                              // TYPE before HELP
      "# HELP x h\n# HELP x h\n# TYPE x counter\n",                       // HELP twice
      "# HELP x h\n# TYPE x counter\n# TYPE x counter\n",                 // TYPE twice
      "# HELP x h\n# TYPE x summary\nx 1\n",                              // type not used here
      "# HELP x h\n# TYPE x counter\nx{a=\"\\t\"} 1\n",                   // unknown escape
      "# HELP x h\n# TYPE x counter\nx{a=\"v} 1\n",                       // unterminated value
      "# HELP x h\n# TYPE x counter\nx{a=\"v\",} 1\n",                    // trailing comma
      "# HELP x h\n# TYPE x counter\nx 1 123\n",                          // timestamp
      "# HELP x h\n# TYPE x counter\nx inf\n",                            // Inf spelled wrong
      "# HELP x h\n# TYPE x counter\nx_sum 1\n",                          // suffix on a counter
      "# HELP x h\n# TYPE x counter\n# HELP y h\n# TYPE y gauge\nx 1\n",  // not contiguous
      "# HELP x h\n# TYPE x counter\nx 1",                                // no final newline
      "# HELP x h\n# TYPE x counter\n\nx 1\n",                            // blank line
      "# a comment\n",                                                    // other comment
  };
  for (const std::string& text : bad) {
    Exposition exposition;
    INFO(text);
    CHECK(gw::test::ParseExposition(text, &exposition) != "");
  }
  Exposition exposition;
  CHECK(gw::test::ParseExposition(
            "# HELP x h\n# TYPE x histogram\nx_bucket{le=\"+Inf\"} 2\nx_sum 0.5\nx_count 2\n",
            &exposition) == "");
}
