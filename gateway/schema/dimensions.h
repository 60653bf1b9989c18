// The fixed lattice of dimensions that consumers may break aggregates down by.
//
// Thread-safety: constants and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace gw {

enum class Dim : uint8_t { kCoa = 0, kCoo, kPopType, kSex, kAge, kRegion };
inline constexpr size_t kDimCount = 6;
inline constexpr std::array<Dim, kDimCount> kAllDims = {Dim::kCoa, Dim::kCoo, Dim::kPopType,
                                                        Dim::kSex, Dim::kAge, Dim::kRegion};

// The wire name ("coa", "coo", "pop_type", "sex", "age", "region"), which is
// also the column name in the counts table (except coa, the snapshot's country).
constexpr std::string_view DimName(Dim d) {
  constexpr std::array<std::string_view, kDimCount> kNames = {"coa", "coo", "pop_type",
                                                              "sex", "age", "region"};
  return kNames[static_cast<size_t>(d)];
}

constexpr std::optional<Dim> DimFromName(std::string_view name) {
  for (Dim d : kAllDims)
    if (DimName(d) == name) return d;
  return std::nullopt;
}

constexpr size_t DimIndex(Dim d) { return static_cast<size_t>(d); }

}  // namespace gw
