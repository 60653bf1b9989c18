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
// perturbed, else "A". A part a country does not list counts as zero.
//
// A country named in coa= must be answered in full: a grant that does not
// cover the query is 403, an exhausted budget 429 (and nothing is debited).
// Without coa=, countries are left out with the reason, and the answer is
// 403 / 429 only when no country remains.
//
// Budget: under dp, every table of the answer that this consumer has not yet
// received from that snapshot version costs the grant's epsilon; the debit is
// durable before Aggregate returns (Store::ChargeBudget), so no number leaves
// unpaid, and concurrent queries cannot overspend.
//
// Thread-safety: thread-safe (Store and PolicyStore are; the engine keeps no
// per-query state, only a cache of combined cells behind a mutex).
#pragma once

#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gateway/common/lru_cache.h"
#include "gateway/common/status.h"
#include "gateway/crypto/digest.h"
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

// The cells of an answer, immutable once built and shared: the engine keeps the
// recent combinations of protected tables, so that every answer built from the
// same tables in the same way reuses the cells and their JSON (the bulk of an
// answer), which is rendered once, with the SHA-256 state after it, so that a
// repeat's Content-Digest hashes only what differs (its budget figures).
class CellList {
 public:
  CellList() : shared_(std::make_shared<Shared>()) {}
  CellList(std::vector<ResultCell> cells) : shared_(std::make_shared<Shared>()) {  // NOLINT: implicit
    shared_->cells = std::move(cells);
  }
  CellList(std::initializer_list<ResultCell> cells) : CellList(std::vector<ResultCell>(cells)) {}

  const std::vector<ResultCell>& vec() const { return shared_->cells; }
  size_t size() const { return shared_->cells.size(); }
  bool empty() const { return shared_->cells.empty(); }
  const ResultCell& operator[](size_t i) const { return shared_->cells[i]; }
  auto begin() const { return shared_->cells.cbegin(); }
  auto end() const { return shared_->cells.cend(); }
  void clear() { *this = CellList(); }

  // `head` followed by the cells as a JSON array under "cells", keyed by the
  // names of `by`, and the SHA-256 state after those bytes. Rendered on first
  // use and kept while `head` stays the same.
  struct Json {
    std::string head;
    std::string text;
    Sha256 state;
  };
  std::shared_ptr<const Json> RenderJson(const std::string& head, const std::vector<Dim>& by) const;

 private:
  struct Shared {
    std::vector<ResultCell> cells;
    mutable std::mutex mu;
    mutable std::shared_ptr<const Json> json;  // guarded by mu
  };
  std::shared_ptr<Shared> shared_;
};

struct SourceInfo {
  std::string country;
  int64_t version = 0;
  std::string digest;
  std::string mechanism;
};

struct BudgetNote {
  std::string country;
  int64_t cost_micro = 0;       // debited by this answer (0 for a repeat)
  int64_t spent_micro = 0;      // after this answer, for (country, ref_date)
  int64_t budget_micro = 0;
  int64_t epsilon_micro = 0;    // price of each new table
};

struct Exclusion {
  std::string country;
  std::string reason;
};

struct AggregateResult {
  std::string ref_date;
  std::vector<Dim> by;
  CellList cells;
  std::vector<std::string> included;
  std::vector<Exclusion> excluded;
  std::vector<SourceInfo> sources;
  std::vector<BudgetNote> budget;
  bool totals = false;

  // The JSON answer and the SHA-256 of exactly those bytes (raw, 32 bytes).
  struct RenderedJson {
    std::string body;
    std::string sha256;
  };
  RenderedJson RenderJson() const;
  std::string ToJson() const { return RenderJson().body; }
  std::string ToCsv() const;
};

struct QueryOptions {
  int64_t snapshot_epsilon_cap_micro = 0;  // gateway.toml [privacy]; 0: none
  size_t combination_cache_cells = 200000;  // cells of recent combined answers kept
};

class QueryEngine {
 public:
  QueryEngine(Store& store, PolicyStore& policies, DisclosureControl& disclosure,
              QueryOptions options = {})
      : store_(store),
        policies_(policies),
        disclosure_(disclosure),
        options_(options),
        combinations_(options.combination_cache_cells) {}

  // NotFound if no country has a snapshot at the date; PermissionDenied if no
  // country's grant covers the query (or one named in coa= does not);
  // ResourceExhausted if the budget refuses (see above); InvalidArgument if a
  // table is too large to protect.
  Result<AggregateResult> Aggregate(const AggregateQuery& query, const Principal& who);

 private:
  Store& store_;
  PolicyStore& policies_;
  DisclosureControl& disclosure_;
  QueryOptions options_;
  // Combined cells by the protected tables they were built from (which the
  // entry keeps alive, so their addresses in the key cannot be reused).
  struct Combination {
    std::vector<std::shared_ptr<const ProtectedTable>> tables;
    CellList cells;
  };
  LruCache<Combination> combinations_;
};

// "1.5" for 1500000 micro-epsilon.
std::string FormatMicro(int64_t micro);

}  // namespace gw
