// QueryEngine: answers an AggregateQuery for one consumer.
//
// For each country with a current snapshot at the reference date it checks the
// owner's grant to this consumer (dimensions, population types, expiry), reads
// that country's exact counts for the query from the counts table (never from
// persons), passes them through DisclosureControl under that grant, and only
// then combines countries. A country whose grant does not cover the query is
// left out and listed with the reason.
//
// Combination rule: a combined cell is suppressed ("Q") if any country's part
// of it is suppressed, since publishing the sum would let the suppressed part
// be recomputed from the per-country answers; it is "E" if any part is
// perturbed, else "A".
//
// Thread-safety: thread-safe (Store and PolicyStore are; the engine keeps no
// per-query state).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/common/status.h"
#include "gateway/privacy/disclosure.h"
#include "gateway/privacy/policy.h"
#include "gateway/query/aggregate_query.h"
#include "gateway/storage/store.h"

namespace gw {

struct Principal {
  std::string name;
  std::string role;  // "consumer" or "operator"
};

struct ResultCell {
  std::vector<std::string> values;  // in the order of AggregateResult::by
  std::optional<int64_t> value;
  char status = 'A';
};

struct SourceInfo {
  std::string country;
  int64_t version = 0;
  std::string digest;
  std::string mechanism;
};

struct Exclusion {
  std::string country;
  std::string reason;
};

struct AggregateResult {
  std::string ref_date;
  std::vector<Dim> by;
  std::vector<ResultCell> cells;
  std::vector<std::string> included;
  std::vector<Exclusion> excluded;
  std::vector<SourceInfo> sources;

  std::string ToJson() const;
  std::string ToCsv() const;
};

class QueryEngine {
 public:
  QueryEngine(Store& store, PolicyStore& policies, DisclosureControl& disclosure)
      : store_(store), policies_(policies), disclosure_(disclosure) {}

  // NotFound if no country has a snapshot at the date; PermissionDenied if no
  // country's grant covers the query.
  Result<AggregateResult> Aggregate(const AggregateQuery& query, const Principal& who);

 private:
  Store& store_;
  PolicyStore& policies_;
  DisclosureControl& disclosure_;
};

}  // namespace gw
