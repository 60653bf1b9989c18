#include "gateway/privacy/noise.h"

#include <sodium.h>

#include <algorithm>

#include "gateway/privacy/dp_sampler.h"

namespace gw {

std::string CanonicalCell(const std::string& country,
                          const std::vector<std::pair<Dim, std::string>>& cell) {
  std::vector<std::pair<std::string_view, std::string_view>> parts;
  parts.reserve(cell.size() + 1);
  parts.emplace_back(DimName(Dim::kCoa), country);
  for (const auto& [dim, code] : cell) {
    if (dim != Dim::kCoa) parts.emplace_back(DimName(dim), code);
  }
  std::sort(parts.begin(), parts.end());
  parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
  std::string out;
  for (const auto& [name, code] : parts) {
    if (!out.empty()) out += ';';
    out.append(name).append("=").append(code);
  }
  return out;
}

Result<SnapshotNoise> SnapshotNoise::Create(std::string_view master, const std::string& country,
                                            const std::string& ref_date, int64_t version) {
  if (master.size() != crypto_kdf_KEYBYTES) {
    return Status::Internal("the noise master key must be 32 bytes");
  }
  if (version <= 0) return Status::Internal("snapshot versions start at 1");
  SnapshotNoise noise;
  static constexpr char kContext[crypto_kdf_CONTEXTBYTES + 1] = "gwdpnois";
  if (crypto_kdf_derive_from_key(noise.key_.data(), noise.key_.size(),
                                 static_cast<uint64_t>(version), kContext,
                                 reinterpret_cast<const unsigned char*>(master.data())) != 0) {
    return Status::Internal("noise key derivation failed");
  }
  // Length-prefixed, so no two (country, date, version) triples share a prefix.
  noise.context_ = std::to_string(country.size()) + ":" + country + ";" + ref_date + ";v" +
                   std::to_string(version) + ";";
  return noise;
}

SnapshotNoise::~SnapshotNoise() { sodium_memzero(key_.data(), key_.size()); }

int64_t SnapshotNoise::Noise(std::string_view canonical_cell, int64_t epsilon_micro) const {
  std::array<unsigned char, 32> seed{};
  crypto_generichash_state state;
  crypto_generichash_init(&state, key_.data(), key_.size(), seed.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(context_.data()),
                            context_.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(canonical_cell.data()),
                            canonical_cell.size());
  crypto_generichash_final(&state, seed.data(), seed.size());
  dp::ChaChaBits bits(seed);
  sodium_memzero(seed.data(), seed.size());
  // scale = 1 / epsilon = 10^6 / epsilon_micro
  return dp::SampleDiscreteLaplace(bits, 1000000, static_cast<uint64_t>(epsilon_micro));
}

}  // namespace gw
