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

namespace {

using gw::http::Metrics;
using std::chrono::microseconds;

using Labels = std::map<std::string, std::string>;

struct Sample {
  std::string name;  // as written, e.g. "x_bucket"
  Labels labels;
  double value = 0;
};

struct Family {
  std::string help;
  std::string type;
  std::vector<Sample> samples;
};

struct Exposition {
  std::map<std::string, Family> families;
  std::vector<std::string> order;  // family names as declared
};

bool IsNameChar(char c, bool first, bool colon_ok) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (c == ':') return colon_ok;
  return !first && c >= '0' && c <= '9';
}

// Reads a name at `pos`; empty if there is none.
std::string ReadName(std::string_view line, size_t* pos, bool colon_ok) {
  size_t start = *pos;
  while (*pos < line.size() && IsNameChar(line[*pos], *pos == start, colon_ok)) ++*pos;
  return std::string(line.substr(start, *pos - start));
}

// Parses a sample value the way Prometheus does for the spellings the format
// allows; the whole token must be consumed.
std::optional<double> ParseValue(std::string_view token) {
  if (token == "+Inf") return HUGE_VAL;
  if (token == "-Inf") return -HUGE_VAL;
  if (token == "NaN") return std::nan("");
  if (token.empty()) return std::nullopt;
  std::string text(token);
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  // strtod also accepts "inf", "nan" and hex floats; the format does not.
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
      return std::nullopt;
    }
  }
  return value;
}

// The family a sample belongs to: its own name, or for histograms the name
// without _bucket/_sum/_count.
std::string FamilyOf(const Exposition& exposition, const std::string& sample_name) {
  if (exposition.families.count(sample_name)) return sample_name;
  for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (sample_name.size() > suffix.size() &&
        sample_name.compare(sample_name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      std::string base = sample_name.substr(0, sample_name.size() - suffix.size());
      auto it = exposition.families.find(base);
      if (it != exposition.families.end() && it->second.type == "histogram") return base;
    }
  }
  return "";
}

// A strict reader of the text format 0.0.4 as Render() writes it: every line
// is "# HELP name text", "# TYPE name counter|gauge|histogram" or a sample
// "name{label="value",...} value" (no timestamps, no other comments, no blank
// lines). Each family gets exactly one HELP then one TYPE, before its
// samples, and its samples follow directly. Returns an error naming the line.
std::string Parse(std::string_view text, Exposition* exposition) {
  if (text.empty() || text.back() != '\n') return "output must end with a newline";
  std::string current;  // the family whose samples may follow
  size_t line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    std::string where = "line " + std::to_string(line_number) + ": " + std::string(line);
    if (line.empty()) return where + ": blank line";

    if (line[0] == '#') {
      bool help = line.substr(0, 7) == "# HELP ";
      bool type = line.substr(0, 7) == "# TYPE ";
      if (!help && !type) return where + ": comment that is neither HELP nor TYPE";
      size_t pos = 7;
      std::string name = ReadName(line, &pos, true);
      if (name.empty()) return where + ": no metric name";
      Family& family = exposition->families[name];
      if (help) {
        if (!family.help.empty() || !family.type.empty() || !family.samples.empty()) {
          return where + ": HELP repeated or after TYPE/samples";
        }
        if (pos < line.size() && line[pos] != ' ') return where + ": bad character after name";
        std::string_view docstring = pos < line.size() ? line.substr(pos + 1) : "";
        family.help = "HELP:" + std::string(docstring);  // non-empty marks "seen"
        exposition->order.push_back(name);
        current = name;
      } else {
        if (current != name || family.help.empty()) return where + ": TYPE without HELP before";
        if (!family.type.empty()) return where + ": TYPE repeated";
        if (pos >= line.size() || line[pos] != ' ') return where + ": no type";
        std::string_view type_name = line.substr(pos + 1);
        if (type_name != "counter" && type_name != "gauge" && type_name != "histogram") {
          return where + ": unknown type";
        }
        family.type = std::string(type_name);
      }
      continue;
    }

    Sample sample;
    size_t pos = 0;
    sample.name = ReadName(line, &pos, true);
    if (sample.name.empty()) return where + ": no sample name";
    if (pos < line.size() && line[pos] == '{') {
      ++pos;
      while (true) {
        std::string label = ReadName(line, &pos, false);
        if (label.empty()) return where + ": bad label name";
        if (pos + 1 >= line.size() || line[pos] != '=' || line[pos + 1] != '"') {
          return where + ": expected =\" after label name";
        }
        pos += 2;
        std::string value;
        while (true) {
          if (pos >= line.size()) return where + ": unterminated label value";
          char c = line[pos++];
          if (c == '"') break;
          if (c == '\\') {
            if (pos >= line.size()) return where + ": dangling backslash";
            char escaped = line[pos++];
            switch (escaped) {
              case '\\':
                value += '\\';
                break;
              case '"':
                value += '"';
                break;
              case 'n':
                value += '\n';
                break;
              default:
                return where + ": unknown escape";
            }
          } else {
            value += c;
          }
        }
        if (!sample.labels.emplace(label, value).second) return where + ": repeated label";
        if (pos < line.size() && line[pos] == ',') {
          ++pos;
          continue;
        }
        if (pos < line.size() && line[pos] == '}') {
          ++pos;
          break;
        }
        return where + ": expected , or }";
      }
    }
    if (pos >= line.size() || line[pos] != ' ') return where + ": expected a space before value";
    std::optional<double> value = ParseValue(line.substr(pos + 1));
    if (!value) return where + ": bad value";
    sample.value = *value;

    std::string family_name = FamilyOf(*exposition, sample.name);
    if (family_name.empty()) return where + ": sample of an undeclared family";
    if (family_name != current) return where + ": sample not right after its family's header";
    Family& family = exposition->families[family_name];
    if (family.type.empty()) return where + ": sample before TYPE";
    if (family.type != "histogram" && sample.name != family_name) {
      return where + ": suffixed sample in a non-histogram family";
    }
    family.samples.push_back(std::move(sample));
  }
  return "";
}

Exposition MustParse(const std::string& text) {
  Exposition exposition;
  std::string error = Parse(text, &exposition);
  INFO(text);
  REQUIRE(error == "");
  return exposition;
}

// The value of the one sample called `name` with exactly `labels`.
std::optional<double> Value(const Exposition& exposition, const std::string& name,
                            const Labels& labels) {
  std::optional<double> found;
  for (const auto& [family_name, family] : exposition.families) {
    for (const Sample& sample : family.samples) {
      if (sample.name == name && sample.labels == labels) {
        if (found) return std::nullopt;  // duplicated series
        found = sample.value;
      }
    }
  }
  return found;
}

const std::vector<std::string> kLe = {"0.0005", "0.001", "0.0025", "0.005", "0.01",
                                      "0.025",  "0.05",  "0.1",    "0.25",  "0.5",
                                      "1",      "2.5",   "5",      "10",    "+Inf"};

constexpr std::string_view kSnapshotRoute = "/v1/snapshots/{country}/{ref_date}";

}  // namespace

TEST_CASE("Metrics renders every family with HELP and TYPE even when empty", "[metrics]") {
  Metrics metrics;
  Exposition exposition = MustParse(metrics.Render({}));
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

  auto start = Value(exposition, "gateway_process_start_time_seconds", {});
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

  Exposition exposition = MustParse(metrics.Render({}));
  const std::string name = "gateway_http_requests_total";
  CHECK(Value(exposition, name, {{"method", "GET"}, {"route", "/healthz"}, {"status", "200"}}) ==
        3.0);
  CHECK(Value(exposition, name,
              {{"method", "PUT"}, {"route", std::string(kSnapshotRoute)}, {"status", "201"}}) ==
        2.0);
  CHECK(Value(exposition, name,
              {{"method", "PUT"}, {"route", std::string(kSnapshotRoute)}, {"status", "400"}}) ==
        1.0);
  CHECK(Value(exposition, name, {{"method", "GET"}, {"route", "unmatched"}, {"status", "404"}}) ==
        2.0);
  CHECK(Value(exposition, name, {{"method", "other"}, {"route", "unmatched"}, {"status", "405"}}) ==
        1.0);
  CHECK(Value(exposition, name, {{"method", "other"}, {"route", "/healthz"}, {"status", "405"}}) ==
        2.0);
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
    Exposition parsed = MustParse(kept.Render({}));
    for (const char* method : {"GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS"}) {
      INFO(method);
      CHECK(Value(parsed, name, {{"method", method}, {"route", "/x"}, {"status", "200"}}) == 1.0);
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

  Exposition exposition = MustParse(metrics.Render({}));
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

  auto count = Value(exposition, "gateway_http_request_duration_seconds_count", {{"route", route}});
  REQUIRE(count);
  CHECK(*count == static_cast<double>(durations.size()));
  CHECK(counts.back() == *count);
  auto sum = Value(exposition, "gateway_http_request_duration_seconds_sum", {{"route", route}});
  REQUIRE(sum);
  CHECK(*sum == static_cast<double>(sum_micros) / 1e6);

  // Other routes get their own series; nothing else leaks into this one.
  CHECK(Value(exposition, "gateway_http_request_duration_seconds_count", {{"route", "/healthz"}}) ==
        1.0);
  CHECK(Value(exposition, "gateway_http_request_duration_seconds_bucket",
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

  Exposition exposition = MustParse(metrics.Render({}));
  const std::string rows = "gateway_ingested_rows_total";
  const std::string bytes = "gateway_ingested_bytes_total";
  CHECK(Value(exposition, rows, {{"country", "KAZ"}, {"outcome", "committed"}}) == 100.0);
  CHECK(Value(exposition, bytes, {{"country", "KAZ"}, {"outcome", "committed"}}) == 12400.0);
  CHECK(Value(exposition, rows, {{"country", "KAZ"}, {"outcome", "rejected"}}) == 10.0);
  CHECK(Value(exposition, bytes, {{"country", "KAZ"}, {"outcome", "rejected"}}) == 1000.0);
  CHECK(Value(exposition, rows, {{"country", "UZB"}, {"outcome", "committed"}}) == 4000000000.0);
  CHECK(Value(exposition, bytes, {{"country", "UZB"}, {"outcome", "committed"}}) ==
        9000000000000.0);
  CHECK(Value(exposition, rows, {{"country", "TJK"}, {"outcome", "other"}}) == 1.0);
  CHECK(Value(exposition, rows, {{"country", "TKM"}, {"outcome", "committed"}}) == 0.0);
  CHECK(Value(exposition, bytes, {{"country", "TKM"}, {"outcome", "committed"}}) == 0.0);
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

  Exposition exposition = MustParse(text);
  CHECK(Value(exposition, "gateway_http_requests_total",
              {{"method", "GET"}, {"route", nasty}, {"status", "200"}}) == 1.0);
  CHECK(Value(exposition, "gateway_http_request_duration_seconds_count", {{"route", nasty}}) ==
        1.0);
  CHECK(Value(exposition, "gateway_ingested_rows_total",
              {{"country", nasty}, {"outcome", "committed"}}) == 1.0);
  CHECK(Value(exposition, "gateway_ingested_rows_total",
              {{"country", "K\xEF\xBF\xBDZ"}, {"outcome", "committed"}}) == 1.0);
  CHECK(Value(exposition, "gateway_ingested_rows_total",
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
  Exposition exposition = MustParse(text);

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
  CHECK(Value(exposition, "gateway_audit_entries_total", {}) == 42.0);
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
  CHECK(Value(exposition, "gateway_budget_spent_epsilon",
              {{"consumer", "unhcr"}, {"country", "KAZ"}}) == 0.1);  // the first one kept
  CHECK(Value(exposition, "gateway_budget_spent_epsilon",
              {{"consumer", "iom\"x"}, {"country", "KAZ"}}) == 1.5);
  CHECK(text.find("gateway_budget_spent_epsilon{consumer=\"cap\",country=\"KAZ\"} +Inf\n") !=
        std::string::npos);
  CHECK(text.find("gateway_budget_spent_epsilon{consumer=\"unhcr\",country=\"KAZ\"} 0.1\n") !=
        std::string::npos);
  CHECK(Value(exposition, "gateway_up", {}) == 1.0);
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

  Exposition exposition = MustParse(text);
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
  MustParse(during);

  Exposition exposition = MustParse(metrics.Render({}));
  const double total = kThreads * kPerThread;
  CHECK(Value(exposition, "gateway_http_requests_total",
              {{"method", "GET"}, {"route", "/v1/aggregates"}, {"status", "200"}}) == total);
  CHECK(Value(exposition, "gateway_http_request_duration_seconds_count",
              {{"route", "/v1/aggregates"}}) == total);
  CHECK(Value(exposition, "gateway_http_request_duration_seconds_bucket",
              {{"route", "/v1/aggregates"}, {"le", "0.001"}}) == total);
  CHECK(Value(exposition, "gateway_http_request_duration_seconds_sum",
              {{"route", "/v1/aggregates"}}) == total * 0.001);
  CHECK(Value(exposition, "gateway_ingested_rows_total",
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
    CHECK(Parse(text, &exposition) != "");
  }
  Exposition exposition;
  CHECK(Parse("# HELP x h\n# TYPE x histogram\nx_bucket{le=\"+Inf\"} 2\nx_sum 0.5\nx_count 2\n",
              &exposition) == "");
}
