// Disclosure control: the one place where exact counts become what a consumer
// may see. The query engine hands each owner country's part of a query here
// with that owner's grant; only the returned cells ever leave the gateway.
//
// A table is a set of broken-down dimensions (`by`, never coa: a part belongs
// to one country). With `totals`, every margin is added: each subset of `by`,
// the summed dimensions carrying the code "_T".
//
// Mechanisms (docs/privacy.md explains the choices):
//   none  exact values, status "A".
//   sdc   the query's table with all its margins is protected once per
//         snapshot: cells below `threshold` are suppressed and complementary
//         cells too, until the exact check (sdc.h) proves that no suppressed
//         cell can be recomputed from the published cells and totals; with or
//         without totals=true and whatever the filters, an answer is a
//         projection of that one pattern. A table whose pattern is too large
//         to prove safe is refused. Published values are rounded to
//         `rounding` ("E") or exact ("A"); suppressed are null "Q".
//   dp    every cell of the table's domain (the code lists, zero cells
//         included, since omitting zeros would reveal them) gets deterministic
//         discrete Laplace noise of scale 1/epsilon (noise.h). A cell is listed
//         when its noisy value is at least 1: "E" with the value when it
//         reaches `threshold`, else null "Q". The listing depends on noisy
//         values only, so it costs no privacy. The released tables are named
//         in ProtectedTable::tables for the budget ledger.
//
// Errors: InvalidArgument means the query itself is unacceptable (e.g. a dp
// table larger than dp_max_cells) and is reported to the consumer as such;
// any other error leaves this country out of the answer with its message.
//
// Protected tables are cached per snapshot version, grant parameters and
// request (bounded by DisclosureSettings::cache_cells), so a repeated question
// costs a lookup; the answer is the same either way.
//
// Thread-safety: thread-safe; the caches are guarded by mutexes.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/common/status.h"
#include "gateway/privacy/policy.h"
#include "gateway/schema/dimensions.h"
#include "gateway/storage/store.h"

namespace gw {

using DimFilters = std::array<std::vector<std::string>, kDimCount>;

struct ProtectedCell {
  std::vector<std::string> values;  // in the order of ProtectionRequest::by; "_T" when summed
  std::optional<int64_t> value;     // empty when suppressed or below threshold
  char status = 'A';                // 'A' normal, 'E' perturbed or rounded, 'Q' suppressed
};

// Reads a snapshot's exact counts grouped by `dims` under `filters` (Store::ReadCounts).
using CountReader =
    std::function<Result<std::vector<CountRow>>(const std::vector<Dim>& dims, const DimFilters& filters)>;

struct ProtectionRequest {
  const Grant* grant = nullptr;
  const SnapshotInfo* snapshot = nullptr;
  std::vector<Dim> by;       // broken-down dimensions (without coa), in output order
  DimFilters filters;        // the query's code lists per dimension (coa ignored)
  bool totals = false;       // add every margin
  // Further margins besides `by` itself (each a subset of `by`), when not all
  // of them are wanted; ignored with `totals`.
  std::vector<std::vector<Dim>> margins;
  CountReader read;
};

struct ProtectedTable {
  std::vector<ProtectedCell> cells;
  std::vector<std::string> tables;  // dp: TableKey of every table released
};

struct DisclosureSettings {
  std::string noise_master;       // keys/dp-noise.key (32 bytes); empty: dp unavailable
  int64_t dp_max_cells = 1000000;
  // Protected tables (and sdc patterns) kept in memory, in cells: snapshots
  // never change, so an answer computed once serves every repeat.
  size_t cache_cells = 500000;
};

class DisclosureControl {
 public:
  virtual ~DisclosureControl() = default;
  // Shared and immutable: a cached table serves every repeat without a copy.
  virtual Result<std::shared_ptr<const ProtectedTable>> Protect(const ProtectionRequest& request) = 0;
};

std::unique_ptr<DisclosureControl> MakeDisclosureControl(DisclosureSettings settings = {});

// The ledger's name of a table: its dimension names sorted, comma-separated;
// "total" for the table of no dimensions.
std::string TableKey(const std::vector<Dim>& dims);

// Rounds to the nearest multiple of `base` (halves up); base <= 1 is identity.
int64_t RoundToBase(int64_t value, int64_t base);

inline constexpr const char* kTotalCode = "_T";

}  // namespace gw
