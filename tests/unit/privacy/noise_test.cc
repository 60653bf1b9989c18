// Deterministic per-cell noise: repeatable, independent of how a cell is named,
// fresh for a new version, and differentially private in what it releases.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>

#include "gateway/crypto/keys.h"
#include "gateway/privacy/noise.h"

namespace gw {
namespace {

std::string Master(int i) {
  std::string m(32, '\0');
  m[0] = static_cast<char>(i);
  m[1] = static_cast<char>(i >> 8);
  m[2] = static_cast<char>(i >> 16);
  return m;
}

}  // namespace

TEST_CASE("the canonical cell does not depend on order, repeats or coa", "[dp]") {
  std::string a = CanonicalCell("KAZ", {{Dim::kSex, "F"}, {Dim::kCoo, "AFG"}});
  std::string b = CanonicalCell("KAZ", {{Dim::kCoo, "AFG"}, {Dim::kSex, "F"}, {Dim::kCoo, "AFG"}});
  std::string c = CanonicalCell("KAZ", {{Dim::kCoa, "KAZ"}, {Dim::kCoo, "AFG"}, {Dim::kSex, "F"}});
  CHECK(a == "coa=KAZ;coo=AFG;sex=F");
  CHECK(a == b);
  CHECK(a == c);
  CHECK(CanonicalCell("KGZ", {{Dim::kSex, "F"}, {Dim::kCoo, "AFG"}}) != a);
  CHECK(CanonicalCell("KAZ", {{Dim::kCoo, "AFG"}}) != a);  // another table's cell
}

TEST_CASE("noise is a function of key, snapshot version and cell", "[dp]") {
  InitCrypto();
  auto v1 = SnapshotNoise::Create(Master(1), "KAZ", "2015-06-30", 1);
  auto v1_again = SnapshotNoise::Create(Master(1), "KAZ", "2015-06-30", 1);
  auto v2 = SnapshotNoise::Create(Master(1), "KAZ", "2015-06-30", 2);
  auto other_key = SnapshotNoise::Create(Master(2), "KAZ", "2015-06-30", 1);
  auto other_country = SnapshotNoise::Create(Master(1), "KGZ", "2015-06-30", 1);
  REQUIRE(v1.ok());
  REQUIRE(v2.ok());
  int same_v2 = 0, same_key = 0, same_country = 0;
  const int cells = 2000;
  for (int i = 0; i < cells; ++i) {
    std::string cell = "coa=KAZ;coo=C" + std::to_string(i);
    int64_t x = v1->Noise(cell, 500000);
    CHECK(x == v1->Noise(cell, 500000));
    CHECK(x == v1_again->Noise(cell, 500000));
    same_v2 += x == v2->Noise(cell, 500000);
    same_key += x == other_key->Noise(cell, 500000);
    same_country += x == other_country->Noise(cell, 500000);
  }
  // Independent scale-2 samples agree about 13% of the time.
  CHECK(same_v2 < cells / 4);
  CHECK(same_key < cells / 4);
  CHECK(same_country < cells / 4);
  CHECK_FALSE(SnapshotNoise::Create("short", "KAZ", "2015-06-30", 1).ok());
}

TEST_CASE("empirical privacy: counts c and c+1 are indistinguishable up to e^epsilon", "[dp]") {
  InitCrypto();
  // Over many secret keys, the released value for a true count of 10 and of
  // 11 must have probabilities within a factor e^epsilon of each other at
  // every output, beyond sampling error.
  for (int64_t eps_micro : {500000, 1000000}) {
    const double eps = static_cast<double>(eps_micro) / 1e6;
    const int trials = 100000;
    std::map<int64_t, int64_t> with_c, with_c1;
    for (int i = 0; i < trials; ++i) {
      auto noise = SnapshotNoise::Create(Master(i), "KAZ", "2015-06-30", 1);
      REQUIRE(noise.ok());
      int64_t x = noise->Noise("coa=KAZ;coo=AFG;sex=F", eps_micro);
      ++with_c[10 + x];
      // The neighbouring database: the same cell with one more person.
      ++with_c1[11 + x];
    }
    int compared = 0;
    double worst = 0;
    for (const auto& [y, a] : with_c) {
      auto it = with_c1.find(y);
      if (it == with_c1.end() || a < 2000 || it->second < 2000) continue;
      double b = static_cast<double>(it->second);
      double ratio = std::max(a / b, b / a);
      // Relative sampling error of a ratio of two counts: about sqrt(1/a + 1/b).
      double tolerance = std::exp(4 * std::sqrt(1.0 / a + 1.0 / b));
      INFO("epsilon " << eps << ", output " << y << ": " << a << " vs " << b);
      CHECK(ratio <= std::exp(eps) * tolerance);
      worst = std::max(worst, ratio);
      ++compared;
    }
    CHECK(compared >= 5);
    // And the bound is tight: the mechanism is not noisier than it claims.
    CHECK(worst > std::exp(eps) / std::exp(4 * std::sqrt(2.0 / 2000)));
  }
}

}  // namespace gw
