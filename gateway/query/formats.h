// Output formats of GET /v1/aggregates: the gateway's own JSON and CSV, and
// the two SDMX 3.0 formats that UNHCR's and IOM's systems load directly,
// SDMX-CSV 2.0.0 and SDMX-JSON 2.0.0 (docs/sdmx.md).
//
// The SDMX messages describe one dataflow, CAMG:DF_MIGRATION_STOCKS(1.0.0),
// whose key always has all seven dimensions (REF_AREA, ORIGIN, POP_TYPE, SEX,
// AGE, ADMIN1, TIME_PERIOD) whatever the answer breaks down: a dimension the
// answer sums over, and a "_T" margin under totals=true, are the SDMX total
// "_T". A suppressed cell ('Q') never carries a number: OBS_VALUE is empty
// (null in JSON), OBS_STATUS "O", CONF_STATUS "C", even if the cell held one.
//
// Contract: every function here is total. Nothing throws (no exception
// escapes); an unknown format name or media type is nullopt, and a code that
// is not in the code lists is written as it is.
//
// Thread-safety: pure functions over immutable code lists, safe from any
// thread. ToSdmxJson(result) reads the clock and the system's randomness for
// the message's `prepared` time and `id`, which are its only varying parts.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "gateway/query/query_engine.h"

namespace gw {

enum class OutputFormat { kJson, kCsv, kSdmxCsv, kSdmxJson };

// "json", "csv", "sdmx-csv", "sdmx-json" (exact, lower case); else nullopt.
std::optional<OutputFormat> ParseOutputFormat(std::string_view name);
// The name ParseOutputFormat accepts.
const char* OutputFormatName(OutputFormat format);

// Picks a format from an Accept header (RFC 9110 section 12.5.1):
//   text/csv                                  -> kCsv
//   application/vnd.sdmx.data+csv (any version) -> kSdmxCsv
//   application/vnd.sdmx.data+json (any version) -> kSdmxJson
//   application/json, application/*, */*     -> the caller's default (nullopt)
// The highest q wins; q=0 excludes a type; at equal q a named type beats a
// wildcard, then the one listed first wins. Unknown types and malformed
// entries are ignored. Nullopt when the header is empty, names nothing we
// serve, or the winner is JSON/a wildcard: the caller keeps its default.
std::optional<OutputFormat> FormatFromAccept(std::string_view accept);

struct RenderedBody {
  std::string content_type;
  std::string body;
  std::string sha256;  // of body, raw (32 bytes), when the renderer had it; else empty
};

// The answer in `format`, with its Content-Type:
//   json      application/json
//   csv       text/csv; charset=utf-8
//   sdmx-csv  application/vnd.sdmx.data+csv; version=2.0.0; charset=utf-8
//   sdmx-json application/vnd.sdmx.data+json; version=2.0.0; charset=utf-8
RenderedBody Render(const AggregateResult& result, OutputFormat format);

// The dataflow the SDMX messages refer to (docs/sdmx.md).
inline constexpr std::string_view kSdmxAgency = "CAMG";
inline constexpr std::string_view kSdmxDataflowId = "DF_MIGRATION_STOCKS";
inline constexpr std::string_view kSdmxDataflowVersion = "1.0.0";
// "CAMG:DF_MIGRATION_STOCKS(1.0.0)": SDMX-CSV's STRUCTURE_ID.
std::string SdmxStructureId();

// SDMX-CSV 2.0.0: the header row, then one row per cell, CRLF line ends.
std::string ToSdmxCsv(const AggregateResult& result);

// The parts of an SDMX-JSON message that are not derived from the answer.
struct SdmxMessageMeta {
  std::string id;        // [A-Za-z0-9_@$-]+, unique per message
  std::string prepared;  // ISO 8601 with time zone, e.g. "2015-07-01T09:30:00Z"
};

// SDMX-JSON 2.0.0 data message, one structure and one flat dataSet (all seven
// dimensions at observation level). `prepared` is the current UTC time and
// `id` is "CAMG-" + that time + 64 random bits in hex.
std::string ToSdmxJson(const AggregateResult& result);
// The same with a given id and time (for tests and reproducible output).
std::string ToSdmxJson(const AggregateResult& result, const SdmxMessageMeta& meta);

}  // namespace gw
