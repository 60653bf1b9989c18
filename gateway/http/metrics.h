// Metrics: the gateway's request and ingest counters, rendered in the
// Prometheus text exposition format 0.0.4 for `GET /metrics`. No client
// library: the few families below are counted here and written out by hand.
//
// Families, in the order Render() writes them:
//
//   gateway_http_requests_total{method,route,status}        counter
//       Finished HTTP requests. `method` is one of GET, PUT, POST, DELETE,
//       HEAD, OPTIONS or "other"; `route` is the router's pattern or
//       "unmatched"; `status` the response code.
//   gateway_http_request_duration_seconds{route}            histogram
//       Time from the first byte of the request to the end of the response
//       write, as _bucket{le} (cumulative; le = 0.0005, 0.001, 0.0025, 0.005,
//       0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, +Inf), _sum, _count.
//   gateway_ingested_rows_total{country,outcome}            counter
//   gateway_ingested_bytes_total{country,outcome}           counter
//       Rows and bytes of ingests, `outcome` "committed" or "rejected"
//       (anything else is counted as "other").
//   gateway_process_start_time_seconds                      gauge
//       Unix time at which this Metrics was constructed (once per process).
//   then the caller's gauges (or counters), in the order given (see Render()).
//
// Contract:
//  * Every family has exactly one "# HELP" and one "# TYPE" line, before its
//    samples, even when it has no samples yet. Within a family, samples are
//    sorted by their label values (label order as listed above), so two renders
//    of the same state are byte-identical.
//  * Label values are escaped as the format requires (\\, \", \n) and invalid
//    UTF-8 is replaced by U+FFFD: one bad byte must not make Prometheus reject
//    the whole scrape.
//  * Label cardinality is the caller's responsibility and must stay bounded:
//    pass the route pattern, never a raw path, and only validated country
//    codes. method and outcome are normalised here because that costs nothing.
//  * Counters only go up: negative rows, bytes or durations count as 0.
//  * Durations are kept in whole microseconds, so _sum and the bucket
//    boundaries are exact (no floating-point drift over millions of requests).
//  * Nothing throws on purpose; only std::bad_alloc can escape.
//
// Thread-safety: all methods are safe to call concurrently. One mutex guards
// the counters; ObserveRequest holds it for a map lookup and a few increments,
// and allocates only the first time it sees a (method, route, status).
// Render() holds the mutex while it formats the counters rather than copying
// them out first: a scrape is rare and the maps are small, so the wait it can
// add to a concurrent ObserveRequest is short. The caller's gauges are
// formatted after the mutex is released.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gw::http {

// The Content-Type of a Render() body, for the /metrics response.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

class Metrics {
 public:
  Metrics();

  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One finished HTTP request. `method` as received (case-sensitive; methods
  // other than GET/PUT/POST/DELETE/HEAD/OPTIONS become "other"); `route` the
  // router's pattern, e.g. "/v1/snapshots/{country}/{ref_date}", or
  // "unmatched" (an empty `route` is taken as "unmatched").
  void ObserveRequest(std::string_view method, std::string_view route, int status,
                      std::chrono::microseconds duration);

  // Rows and bytes taken in by one committed or rejected ingest.
  void AddIngest(std::string_view country, std::string_view outcome, int64_t rows, int64_t bytes);

  // A point-in-time family the caller reads at scrape time (snapshots per
  // country, budget spent per consumer, ...). `name` must match
  // [a-zA-Z_:][a-zA-Z0-9_:]* and must not repeat a family already rendered;
  // otherwise the whole gauge is left out, since a malformed or duplicated
  // family would make Prometheus reject the entire scrape. Samples whose label
  // names are not [a-zA-Z_][a-zA-Z0-9_]* (or start with "__", reserved) are
  // left out for the same reason; of samples with equal label sets only the
  // first is kept.
  // With `counter` set the family is typed a counter instead (a total the
  // caller keeps, which only grows, such as the audit thread's; its name
  // should end in _total).
  struct Gauge {
    std::string name;
    std::string help;
    std::vector<std::pair<std::map<std::string, std::string>, double>> samples;
    bool counter = false;
  };

  // The exposition text: the families listed in the header comment, then
  // `gauges`. Ends with a newline.
  std::string Render(const std::vector<Gauge>& gauges) const;

  // Upper bounds of the duration buckets in microseconds, +Inf excluded.
  static constexpr std::array<int64_t, 14> kBucketBoundsMicros = {
      500,    1000,   2500,   5000,    10000,   25000,   50000,
      100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

 private:
  // Index into the table of kept methods; the last index is "other".
  using MethodIndex = uint8_t;

  struct RouteStats {
    // Requests per (method, status). Few entries per route.
    std::map<std::pair<MethodIndex, int>, uint64_t> requests;
    // Non-cumulative: bucket i counts durations in (bound[i-1], bound[i]];
    // the last one is +Inf. Render() accumulates.
    std::array<uint64_t, kBucketBoundsMicros.size() + 1> buckets{};
    uint64_t count = 0;
    int64_t sum_micros = 0;
  };

  struct IngestTotals {
    uint64_t rows = 0;
    uint64_t bytes = 0;
  };

  static MethodIndex IndexOfMethod(std::string_view method);

  const double start_time_seconds_;

  mutable std::mutex mu_;
  // std::less<> lets the hot path look a route up by string_view without
  // building a std::string.
  std::map<std::string, RouteStats, std::less<>> routes_;  // guarded by mu_
  // Keyed by (country, outcome).
  std::map<std::pair<std::string, std::string>, IngestTotals> ingest_;  // guarded by mu_
};

}  // namespace gw::http
