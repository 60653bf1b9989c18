// Deterministic differential-privacy noise per cell.
//
// The noise of a cell is a discrete Laplace sample (dp_sampler.h) whose random
// bits are a ChaCha20 stream keyed by
//
//   BLAKE2b-256( key = crypto_kdf(master, subkey id = snapshot version, "gwdpnois"),
//                message = country, reference date, version and the canonical cell )
//
// where the master secret is keys/dp-noise.key. Consequences, all intended:
// the same cell of the same snapshot version gets the same noise for every
// consumer and every way of asking (so repeating a question, or asking it
// through another consumer, averages nothing away); a new version gets fresh,
// independent noise (and is a new release in the budget ledger); without the
// master key the noise cannot be predicted or removed.
//
// The canonical cell names every broken-down dimension with its code, sorted
// by dimension name, with the owner country as coa: "coa=KAZ;coo=AFG;sex=F".
// Parameter order, repeated codes or the order of `by` cannot change it.
//
// Thread-safety: SnapshotNoise is immutable after construction; Noise() is
// safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/common/status.h"
#include "gateway/schema/dimensions.h"

namespace gw {

// The canonical text of a cell of `country`'s table; `cell` lists the other
// broken-down dimensions (never coa) with their codes, in any order.
std::string CanonicalCell(const std::string& country,
                          const std::vector<std::pair<Dim, std::string>>& cell);

class SnapshotNoise {
 public:
  // `master` is the 32-byte secret of keys/dp-noise.key.
  static Result<SnapshotNoise> Create(std::string_view master, const std::string& country,
                                      const std::string& ref_date, int64_t version);
  SnapshotNoise(const SnapshotNoise&) = default;
  SnapshotNoise& operator=(const SnapshotNoise&) = default;
  ~SnapshotNoise();

  // Discrete Laplace noise with scale 1/epsilon (epsilon in millionths, > 0)
  // for the canonical cell: sensitivity 1, since one person is in one cell of
  // a table.
  int64_t Noise(std::string_view canonical_cell, int64_t epsilon_micro) const;

 private:
  SnapshotNoise() = default;
  std::array<unsigned char, 32> key_{};
  std::string context_;  // country, reference date and version
};

}  // namespace gw
