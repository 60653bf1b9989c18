#include "gateway/http/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <set>
#include <system_error>
#include <tuple>

namespace gw::http {

namespace {

// The methods kept as label values; anything else is counted as the last
// entry, so a client cannot create series by inventing methods.
constexpr std::array<std::string_view, 7> kMethodLabels = {"GET",  "PUT",     "POST", "DELETE",
                                                           "HEAD", "OPTIONS", "other"};

// The le label of each bucket, written out rather than formatted from a double
// so that they read exactly as documented ("0.0005", not "0.00050000000000000001").
constexpr std::array<std::string_view, Metrics::kBucketBoundsMicros.size() + 1> kBucketLabels = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
    "0.25",   "0.5",   "1",      "2.5",   "5",    "10",    "+Inf"};

constexpr std::string_view kRequestsTotal = "gateway_http_requests_total";
constexpr std::string_view kRequestDuration = "gateway_http_request_duration_seconds";
constexpr std::string_view kIngestedRows = "gateway_ingested_rows_total";
constexpr std::string_view kIngestedBytes = "gateway_ingested_bytes_total";
constexpr std::string_view kStartTime = "gateway_process_start_time_seconds";

std::string_view NormaliseOutcome(std::string_view outcome) {
  if (outcome == "committed") return "committed";
  if (outcome == "rejected") return "rejected";
  return "other";
}

void AppendInteger(std::string* out, uint64_t value) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (ec == std::errc()) out->append(buffer, end);
}

void AppendInteger(std::string* out, int64_t value) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (ec == std::errc()) out->append(buffer, end);
}

// The shortest text that reads back as the same double (std::to_chars), with
// the spellings Prometheus expects for the non-finite values.
void AppendDouble(std::string* out, double value) {
  if (std::isnan(value)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(value)) {
    out->append(value > 0 ? "+Inf" : "-Inf");
    return;
  }
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (ec == std::errc()) out->append(buffer, end);
}

// Length of the well-formed UTF-8 sequence at the start of `s`, or 0 if it is
// not one (overlong forms, surrogates and code points above U+10FFFF included).
size_t Utf8SequenceLength(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  auto continuation = [&](size_t i, unsigned char lo, unsigned char hi) {
    return i < s.size() && byte(i) >= lo && byte(i) <= hi;
  };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(1, 0x80, 0xBF) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    unsigned char lo = lead == 0xE0 ? 0xA0 : 0x80;
    unsigned char hi = lead == 0xED ? 0x9F : 0xBF;
    return continuation(1, lo, hi) && continuation(2, 0x80, 0xBF) ? 3 : 0;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    unsigned char lo = lead == 0xF0 ? 0x90 : 0x80;
    unsigned char hi = lead == 0xF4 ? 0x8F : 0xBF;
    return continuation(1, lo, hi) && continuation(2, 0x80, 0xBF) && continuation(3, 0x80, 0xBF)
               ? 4
               : 0;
  }
  return 0;
}

// Appends `text` escaped for a label value (`in_label`: \\, \" and \n) or a
// HELP text (\\ and \n only, as the format defines), with each byte that does
// not start well-formed UTF-8 replaced by U+FFFD: Prometheus refuses a whole
// scrape over one invalid label value.
void AppendEscaped(std::string* out, std::string_view text, bool in_label) {
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '"' && in_label) {
      out->append("\\\"");
    } else {
      size_t length = Utf8SequenceLength(text.substr(i));
      if (length == 0) {
        out->append("\xEF\xBF\xBD");
        length = 1;
      } else {
        out->append(text.substr(i, length));
      }
      i += length;
      continue;
    }
    ++i;
  }
}

void AppendHeader(std::string* out, std::string_view name, std::string_view help,
                  std::string_view type) {
  out->append("# HELP ").append(name);
  if (!help.empty()) {
    out->push_back(' ');
    AppendEscaped(out, help, /*in_label=*/false);
  }
  out->append("\n# TYPE ").append(name).push_back(' ');
  out->append(type).push_back('\n');
}

// Appends `name="value"`, preceded by a comma unless `first`.
void AppendLabel(std::string* out, std::string_view name, std::string_view value, bool first) {
  if (!first) out->push_back(',');
  out->append(name).append("=\"");
  AppendEscaped(out, value, /*in_label=*/true);
  out->push_back('"');
}

bool IsMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

bool IsLabelName(std::string_view name) {
  if (name.empty() || name.substr(0, 2) == "__") return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

double NowUnixSeconds() {
  auto since_epoch = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return static_cast<double>(since_epoch.count()) / 1e6;
}

}  // namespace

Metrics::Metrics() : start_time_seconds_(NowUnixSeconds()) {}

Metrics::MethodIndex Metrics::IndexOfMethod(std::string_view method) {
  for (size_t i = 0; i + 1 < kMethodLabels.size(); ++i) {
    if (kMethodLabels[i] == method) return static_cast<MethodIndex>(i);
  }
  return static_cast<MethodIndex>(kMethodLabels.size() - 1);
}

void Metrics::ObserveRequest(std::string_view method, std::string_view route, int status,
                             std::chrono::microseconds duration) {
  if (route.empty()) route = "unmatched";
  const MethodIndex method_index = IndexOfMethod(method);
  const int64_t micros = std::max<int64_t>(duration.count(), 0);
  // The first bound >= micros: a bucket counts durations less than or equal
  // to its le. Past the last bound, the index is that of +Inf.
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(kBucketBoundsMicros.begin(), kBucketBoundsMicros.end(), micros) -
      kBucketBoundsMicros.begin());

  std::lock_guard<std::mutex> lock(mu_);
  // find() first: emplace would build a std::string key on every call.
  auto it = routes_.find(route);
  if (it == routes_.end()) it = routes_.emplace(std::string(route), RouteStats{}).first;
  RouteStats& stats = it->second;
  ++stats.requests[{method_index, status}];
  ++stats.buckets[bucket];
  ++stats.count;
  stats.sum_micros += micros;
}

void Metrics::AddIngest(std::string_view country, std::string_view outcome, int64_t rows,
                        int64_t bytes) {
  // Ingests are rare next to requests: building the key here costs nothing
  // that matters.
  std::pair<std::string, std::string> key(std::string(country),
                                          std::string(NormaliseOutcome(outcome)));
  std::lock_guard<std::mutex> lock(mu_);
  IngestTotals& totals = ingest_[std::move(key)];
  totals.rows += static_cast<uint64_t>(std::max<int64_t>(rows, 0));
  totals.bytes += static_cast<uint64_t>(std::max<int64_t>(bytes, 0));
}

std::string Metrics::Render(const std::vector<Gauge>& gauges) const {
  std::string out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out.reserve(1024 + routes_.size() * 2048 + ingest_.size() * 256);

    // Requests, sorted by (method, route, status). routes_ is ordered by route
    // but the method label comes first, so sort a list of references.
    struct RequestSample {
      std::string_view method;
      std::string_view route;
      int status;
      uint64_t count;
    };
    std::vector<RequestSample> requests;
    for (const auto& [route, stats] : routes_) {
      for (const auto& [key, count] : stats.requests) {
        requests.push_back({kMethodLabels[key.first], route, key.second, count});
      }
    }
    std::sort(requests.begin(), requests.end(), [](const RequestSample& a, const RequestSample& b) {
      return std::tie(a.method, a.route, a.status) < std::tie(b.method, b.route, b.status);
    });
    AppendHeader(&out, kRequestsTotal,
                 "HTTP requests answered, by method, route pattern and status.", "counter");
    for (const RequestSample& sample : requests) {
      out.append(kRequestsTotal).push_back('{');
      AppendLabel(&out, "method", sample.method, true);
      AppendLabel(&out, "route", sample.route, false);
      out.append(",status=\"");
      AppendInteger(&out, static_cast<int64_t>(sample.status));
      out.append("\"} ");
      AppendInteger(&out, sample.count);
      out.push_back('\n');
    }

    AppendHeader(&out, kRequestDuration,
                 "Time from the first byte of a request to the end of its response, by route "
                 "pattern.",
                 "histogram");
    for (const auto& [route, stats] : routes_) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i < stats.buckets.size(); ++i) {
        cumulative += stats.buckets[i];
        out.append(kRequestDuration).append("_bucket{");
        AppendLabel(&out, "route", route, true);
        AppendLabel(&out, "le", kBucketLabels[i], false);
        out.append("} ");
        AppendInteger(&out, cumulative);
        out.push_back('\n');
      }
      out.append(kRequestDuration).append("_sum{");
      AppendLabel(&out, "route", route, true);
      out.append("} ");
      AppendDouble(&out, static_cast<double>(stats.sum_micros) / 1e6);
      out.push_back('\n');
      out.append(kRequestDuration).append("_count{");
      AppendLabel(&out, "route", route, true);
      out.append("} ");
      AppendInteger(&out, stats.count);
      out.push_back('\n');
    }

    auto append_ingest = [&](std::string_view name, std::string_view help, bool rows) {
      AppendHeader(&out, name, help, "counter");
      for (const auto& [key, totals] : ingest_) {
        out.append(name).push_back('{');
        AppendLabel(&out, "country", key.first, true);
        AppendLabel(&out, "outcome", key.second, false);
        out.append("} ");
        AppendInteger(&out, rows ? totals.rows : totals.bytes);
        out.push_back('\n');
      }
    };
    append_ingest(kIngestedRows, "Rows of ingested snapshots, by country and outcome.", true);
    append_ingest(kIngestedBytes, "Bytes of ingested snapshots, by country and outcome.", false);
  }

  AppendHeader(&out, kStartTime, "Unix time at which the gateway process started.", "gauge");
  out.append(kStartTime).push_back(' ');
  AppendDouble(&out, start_time_seconds_);
  out.push_back('\n');

  // Names a caller's gauge may not take: the families above and the series
  // names of the histogram, which Prometheus treats as taken too.
  std::set<std::string, std::less<>> taken = {std::string(kRequestsTotal),
                                              std::string(kRequestDuration),
                                              std::string(kRequestDuration) + "_bucket",
                                              std::string(kRequestDuration) + "_sum",
                                              std::string(kRequestDuration) + "_count",
                                              std::string(kIngestedRows),
                                              std::string(kIngestedBytes),
                                              std::string(kStartTime)};
  for (const Gauge& gauge : gauges) {
    if (!IsMetricName(gauge.name) || !taken.insert(gauge.name).second) continue;

    using Sample = std::pair<std::map<std::string, std::string>, double>;
    std::vector<const Sample*> samples;
    samples.reserve(gauge.samples.size());
    for (const Sample& sample : gauge.samples) {
      bool labels_ok = std::all_of(sample.first.begin(), sample.first.end(),
                                   [](const auto& label) { return IsLabelName(label.first); });
      if (labels_ok) samples.push_back(&sample);
    }
    // Stable, so that of equal label sets the first given is the one kept.
    std::stable_sort(samples.begin(), samples.end(),
                     [](const Sample* a, const Sample* b) { return a->first < b->first; });
    samples.erase(
        std::unique(samples.begin(), samples.end(),
                    [](const Sample* a, const Sample* b) { return a->first == b->first; }),
        samples.end());

    AppendHeader(&out, gauge.name, gauge.help, gauge.counter ? "counter" : "gauge");
    for (const Sample* sample : samples) {
      out.append(gauge.name);
      if (!sample->first.empty()) {
        out.push_back('{');
        bool first = true;
        for (const auto& [name, value] : sample->first) {
          AppendLabel(&out, name, value, first);
          first = false;
        }
        out.push_back('}');
      }
      out.push_back(' ');
      AppendDouble(&out, sample->second);
      out.push_back('\n');
    }
  }
  return out;
}

}  // namespace gw::http
