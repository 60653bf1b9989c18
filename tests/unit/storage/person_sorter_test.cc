// The external sort behind snapshot writes: sorted output, duplicates adjacent,
// the same result whether it fits in memory or spills to many runs.
#include <catch2/catch.hpp>

#include <random>

#include "gateway/storage/person_sorter.h"
#include "support/test_deployment.h"

namespace gw {

TEST_CASE("persons come back in key then row order, across spilled runs", "[storage]") {
  test::TempDir tmp;
  std::mt19937_64 rng(42);
  std::vector<PackedPerson> input;
  for (uint64_t row = 1; row <= 5000; ++row) {
    PackedPerson p;
    uint64_t k = rng() % 3000;  // repeats on purpose
    for (int i = 0; i < 8; ++i) p.key[i] = static_cast<uint8_t>(k >> (56 - 8 * i));
    p.row = row;
    p.pop_type[0] = 'R';
    input.push_back(p);
  }
  for (size_t run_bytes : {size_t{1} << 30, sizeof(PackedPerson) * 7, sizeof(PackedPerson) * 1000}) {
    INFO("run of " << run_bytes << " bytes");
    PersonSorter sorter(run_bytes, tmp.path());
    for (const auto& p : input) REQUIRE(sorter.Add(p).ok());
    CHECK(sorter.size() == input.size());
    std::vector<PackedPerson> out;
    REQUIRE(sorter.Drain([&](const PackedPerson& p) {
      out.push_back(p);
      return Status::Ok();
    }).ok());
    REQUIRE(out.size() == input.size());
    for (size_t i = 1; i < out.size(); ++i) {
      int c = std::memcmp(out[i - 1].key.data(), out[i].key.data(), out[i].key.size());
      CHECK((c < 0 || (c == 0 && out[i - 1].row < out[i].row)));
    }
    CHECK(out[0].pop_type[0] == 'R');
  }
  // Spill files are unlinked at once: nothing is left in the directory.
  CHECK(std::filesystem::is_empty(tmp.path()));
}

}  // namespace gw
