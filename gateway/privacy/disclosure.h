// Disclosure control: the one place where exact counts become what a consumer
// may see. The query engine reads one owner country's exact table for a query
// and hands it here with that country's grant; only the returned cells ever
// leave the gateway.
//
// Mechanisms (see docs/privacy.md):
//   none  exact values, status "A" (own data or an explicit operator decision)
//   sdc   values below `threshold` suppressed (null, "Q"); others exact ("A"),
//         or rounded to `rounding` when set ("E")
//   dp    not available in this build: the table is refused (the caller leaves
//         the country out and says why), never released unprotected.
//
// Thread-safety: stateless; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gateway/common/status.h"
#include "gateway/privacy/policy.h"
#include "gateway/schema/dimensions.h"
#include "gateway/storage/store.h"

namespace gw {

struct ProtectedCell {
  std::vector<std::string> values;  // dimension values, in the order of ProtectionRequest::by
  std::optional<int64_t> value;     // empty when suppressed
  char status = 'A';                // 'A' normal, 'E' perturbed, 'Q' suppressed
};

struct ProtectionRequest {
  const Grant* grant = nullptr;
  const SnapshotInfo* snapshot = nullptr;
  std::string consumer;
  std::vector<Dim> by;           // broken-down dimensions (without coa)
  std::vector<CountRow> exact;   // the owner's exact table, non-zero cells
};

class DisclosureControl {
 public:
  virtual ~DisclosureControl() = default;
  // Returns the protected cells, or an error that excludes this country from
  // the answer (the message is shown to the consumer as the reason).
  virtual Result<std::vector<ProtectedCell>> Protect(const ProtectionRequest& request) = 0;
};

// The mechanisms of this build (none, sdc with threshold and rounding).
std::unique_ptr<DisclosureControl> MakeDisclosureControl();

// Rounds to the nearest multiple of `base` (halves up); base <= 1 is identity.
int64_t RoundToBase(int64_t value, int64_t base);

}  // namespace gw
