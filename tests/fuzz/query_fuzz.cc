// The aggregates query parser (GET /v1/aggregates). The input is the query
// string of a request target; it is split into (name, value) pairs by the
// server's own ParseTarget, as for a real request, and handed to
// ParseAggregateQuery. When the query is accepted, its canonical text (the
// one the audit log records) must describe the same query:
//   - the parsed query is well formed (known format, no repeated dimension in
//     `by`, every filtered dimension broken down, filters hold known codes
//     without repetition);
//   - the same parameters in reverse order give the same canonical text;
//   - the canonical text, read back as a query string by ParseTarget, parses
//     again and gives the same canonical text.
// Any crash, sanitizer report or broken invariant (__builtin_trap) is a finding.
//
// Known finding (issue 8): CanonicalQuery writes codes unescaped, so the age
// band "60+" (asked as age=60%2B) reads back as "60 ", an unknown code. With
// GW_FUZZ_QUERY_ESCAPE_PLUS=1 in the environment the canonical text gets its
// '+' escaped before it is read back, so that a run can explore past this
// finding; without it (the default) the finding traps.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/http/api.h"
#include "gateway/http/request.h"
#include "gateway/query/aggregate_query.h"

namespace {

// The server's default (gateway.toml max_query_params).
constexpr size_t kMaxQueryParams = 64;
using Params = std::vector<std::pair<std::string, std::string>>;

bool SplitQuery(std::string_view query, Params* params) {
  std::string path;
  std::string target = "/v1/aggregates?" + std::string(query);
  return gw::http::ParseTarget(target, kMaxQueryParams, &path, params).ok();
}

void CheckWellFormed(const gw::AggregateQuery& q) {
  if (q.format != "json" && q.format != "csv" && q.format != "sdmx-csv" && q.format != "sdmx-json") {
    __builtin_trap();
  }
  for (size_t i = 0; i < q.by.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (q.by[i] == q.by[j]) __builtin_trap();
    }
  }
  for (gw::Dim d : gw::kAllDims) {
    const auto& codes = q.filters[gw::DimIndex(d)];
    if (!codes.empty() && !q.BreaksDown(d)) __builtin_trap();
    for (size_t i = 0; i < codes.size(); ++i) {
      if (codes[i].empty()) __builtin_trap();
      for (size_t j = 0; j < i; ++j) {
        if (codes[i] == codes[j]) __builtin_trap();
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Params params;
  if (!SplitQuery(input, &params)) return 0;
  auto query = gw::ParseAggregateQuery(params);
  if (!query.ok()) {
    if (query.status().message().empty()) __builtin_trap();  // a refusal must say why
    return 0;
  }
  CheckWellFormed(*query);
  const std::string canonical = gw::http::CanonicalQuery(*query);

  // Parameter order does not matter to the canonical text.
  Params reversed(params.rbegin(), params.rend());
  auto again = gw::ParseAggregateQuery(reversed);
  if (!again.ok() || gw::http::CanonicalQuery(*again) != canonical) __builtin_trap();

  // The canonical text is itself a query string for the same query.
  static const bool escape_plus = [] {
    const char* v = std::getenv("GW_FUZZ_QUERY_ESCAPE_PLUS");
    return v != nullptr && std::string_view(v) == "1";
  }();
  std::string readable = canonical;
  if (escape_plus) {
    for (size_t at = readable.find('+'); at != std::string::npos; at = readable.find('+', at + 3)) {
      readable.replace(at, 1, "%2B");
    }
  }
  Params canonical_params;
  if (!SplitQuery(readable, &canonical_params)) __builtin_trap();
  auto reparsed = gw::ParseAggregateQuery(canonical_params);
  if (!reparsed.ok()) __builtin_trap();
  CheckWellFormed(*reparsed);
  if (gw::http::CanonicalQuery(*reparsed) != canonical) __builtin_trap();
  return 0;
}
