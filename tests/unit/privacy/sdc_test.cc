#include "gateway/privacy/sdc.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace gw::sdc {
namespace {

using Values = std::vector<std::string>;

// The exact lattice of an interior table, computed by brute force: every
// interior cell is added into each of its 2^dims projections.
std::map<Values, int64_t> ExactLattice(size_t dims, const std::vector<InteriorCell>& interior) {
  std::map<Values, int64_t> lattice;
  for (const InteriorCell& cell : interior) {
    for (size_t mask = 0; mask < (size_t{1} << dims); ++mask) {
      Values values = cell.values;
      for (size_t d = 0; d < dims; ++d) {
        if ((mask >> d) & 1) values[d] = kTotalCode;
      }
      lattice[values] += cell.count;
    }
  }
  return lattice;
}

// The lattice as unprotected cells, in values order.
std::vector<Cell> Unprotected(size_t dims, const std::vector<InteriorCell>& interior) {
  std::vector<Cell> cells;
  for (const auto& [values, count] : ExactLattice(dims, interior)) {
    cells.push_back(Cell{values, count, false, false});
  }
  return cells;
}

size_t IndexOf(const std::vector<Cell>& cells, const Values& values) {
  for (size_t i = 0; i < cells.size(); ++i) {
    if (cells[i].values == values) return i;
  }
  FAIL("no cell " << Catch::Detail::stringify(values));
  return 0;
}

struct Line {
  size_t total;
  std::vector<size_t> members;
};

// Every line of a listed lattice, found independently of the implementation.
std::vector<Line> Lines(size_t dims, const std::vector<Cell>& cells) {
  std::map<std::pair<Values, size_t>, std::vector<size_t>> members;  // (total values, d)
  for (size_t i = 0; i < cells.size(); ++i) {
    for (size_t d = 0; d < dims; ++d) {
      if (cells[i].values[d] == kTotalCode) continue;
      Values total = cells[i].values;
      total[d] = kTotalCode;
      members[{total, d}].push_back(i);
    }
  }
  std::vector<Line> lines;
  for (auto& [key, line_members] : members) {
    lines.push_back(Line{IndexOf(cells, key.first), line_members});
  }
  return lines;
}

size_t HiddenIn(const std::vector<Cell>& cells, const Line& line) {
  size_t hidden = cells[line.total].suppressed ? 1 : 0;
  for (size_t m : line.members) hidden += cells[m].suppressed ? 1 : 0;
  return hidden;
}

// Every property Protect promises, checked from first principles.
void CheckProtected(size_t dims, const std::vector<InteriorCell>& interior,
                    const std::vector<Cell>& cells, int64_t threshold) {
  const std::map<Values, int64_t> exact = ExactLattice(dims, interior);
  REQUIRE(cells.size() == exact.size());
  auto expected = exact.begin();
  for (const Cell& cell : cells) {  // the same cells, counts, in values order
    CHECK(cell.values == expected->first);
    CHECK(cell.count == expected->second);
    CHECK(cell.primary == (cell.count < threshold));
    if (cell.primary) CHECK(cell.suppressed);
    ++expected;
  }
  for (const Line& line : Lines(dims, cells)) {
    int64_t sum = 0;
    for (size_t m : line.members) sum += cells[m].count;
    CHECK(sum == cells[line.total].count);
    CHECK(HiddenIn(cells, line) != 1);
  }
  CHECK(RecomputableCells(dims, cells).empty());
}

std::vector<InteriorCell> Grid(const std::vector<std::vector<int64_t>>& counts) {
  std::vector<InteriorCell> interior;
  for (size_t r = 0; r < counts.size(); ++r) {
    for (size_t c = 0; c < counts[r].size(); ++c) {
      interior.push_back(
          InteriorCell{{"r" + std::to_string(r), "c" + std::to_string(c)}, counts[r][c]});
    }
  }
  return interior;
}

std::vector<size_t> Suppressed(const std::vector<Cell>& cells) {
  std::vector<size_t> suppressed;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (cells[i].suppressed) suppressed.push_back(i);
  }
  return suppressed;
}

TEST_CASE("one small cell in a 3x3 table is hidden in its row and column", "[sdc]") {
  const auto interior = Grid({{12, 15, 9}, {3, 20, 11}, {14, 8, 17}});
  auto cells = Protect(2, interior, Options{5});
  REQUIRE(cells.ok());
  CheckProtected(2, interior, *cells, 5);
  // The row of (r1, c0) gives up its smallest other member (r1, c2), the
  // column its smallest (r0, c0); column c2 then needs (r0, c2).
  const std::set<Values> hidden = {{"r0", "c0"}, {"r0", "c2"}, {"r1", "c0"}, {"r1", "c2"}};
  for (const Cell& cell : *cells) {
    CHECK(cell.suppressed == (hidden.count(cell.values) == 1));
    CHECK(cell.primary == (cell.values == Values{"r1", "c0"}));
  }
  CHECK((*cells)[IndexOf(*cells, {"_T", "_T"})].count == 109);
  CHECK((*cells)[IndexOf(*cells, {"r1", "_T"})].count == 34);
  CHECK((*cells)[IndexOf(*cells, {"_T", "c0"})].count == 29);
}

TEST_CASE("primary suppression alone is recomputable", "[sdc]") {
  const auto interior = Grid({{12, 15, 9}, {3, 4, 11}, {14, 8, 17}});
  std::vector<Cell> cells = Unprotected(2, interior);
  const size_t r1c0 = IndexOf(cells, {"r1", "c0"}), r1c1 = IndexOf(cells, {"r1", "c1"});
  cells[r1c0].suppressed = true;
  CHECK(RecomputableCells(2, cells) == std::vector<size_t>{r1c0});  // from its row
  cells[r1c1].suppressed = true;  // the row now hides two, but each column one
  CHECK(RecomputableCells(2, cells) == std::vector<size_t>{r1c0, r1c1});
}

// Two suppressed 2x2 blocks joined by (r0, c2): every line hides 0 or at
// least 2 entries, yet row r0 minus block A's margins gives (r0, c2).
std::vector<InteriorCell> BridgeTable() {
  return Grid({{1, 2, 3, 40}, {2, 1, 50, 60}, {70, 80, 4, 1}, {90, 20, 2, 3}});
}
const std::set<Values> kBridge = {{"r0", "c0"}, {"r0", "c1"}, {"r1", "c0"},
                                  {"r1", "c1"}, {"r0", "c2"}, {"r2", "c2"},
                                  {"r2", "c3"}, {"r3", "c2"}, {"r3", "c3"}};

TEST_CASE("a bridge between two hidden blocks is recomputable", "[sdc]") {
  std::vector<Cell> cells = Unprotected(2, BridgeTable());
  for (Cell& cell : cells) cell.suppressed = kBridge.count(cell.values) == 1;
  for (const Line& line : Lines(2, cells)) CHECK(HiddenIn(cells, line) != 1);
  CHECK(RecomputableCells(2, cells) == std::vector<size_t>{IndexOf(cells, {"r0", "c2"})});

  // Without the bridge, nothing is determined.
  cells[IndexOf(cells, {"r0", "c2"})].suppressed = false;
  CHECK(RecomputableCells(2, cells).empty());
}

TEST_CASE("the exact check repairs what the line rule misses", "[sdc]") {
  // The small cells are exactly the bridge pattern, which the line rule accepts.
  const auto interior = BridgeTable();
  auto line_rule_only = Protect(2, interior, Options{5, 0});
  REQUIRE(line_rule_only.ok());
  std::set<Values> hidden;
  for (size_t i : Suppressed(*line_rule_only)) hidden.insert((*line_rule_only)[i].values);
  CHECK(hidden == kBridge);
  CHECK(RecomputableCells(2, *line_rule_only).size() == 1);

  auto cells = Protect(2, interior, Options{5});
  REQUIRE(cells.ok());
  CheckProtected(2, interior, *cells, 5);
  CHECK(Suppressed(*cells).size() > kBridge.size());
}

TEST_CASE("a one-dimensional table is one line", "[sdc]") {
  auto protect = [](std::vector<InteriorCell> interior) {
    auto cells = Protect(1, interior, Options{5});
    REQUIRE(cells.ok());
    CheckProtected(1, interior, *cells, 5);
    std::string hidden;
    for (size_t i : Suppressed(*cells)) hidden += (*cells)[i].values[0] + " ";
    return hidden;
  };
  // One small member: the smallest other member, ties by value, not the total.
  CHECK(protect({{{"d"}, 9}, {{"a"}, 2}, {{"c"}, 7}, {{"b"}, 7}}) == "a b ");
  CHECK(protect({{{"a"}, 2}, {{"b"}, 30}}) == "a b ");
  CHECK(protect({{{"a"}, 2}, {{"b"}, 3}, {{"c"}, 9}}) == "a b ");
  // A single small member: its total equals it and is small too.
  CHECK(protect({{{"a"}, 3}}) == "_T a ");
  CHECK(protect({{{"a"}, 8}, {{"b"}, 6}}).empty());
}

TEST_CASE("a table without dimensions is its grand total", "[sdc]") {
  auto small = Protect(0, {{{}, 3}}, Options{5});
  REQUIRE(small.ok());
  REQUIRE(small->size() == 1);
  CHECK((*small)[0].values.empty());
  CHECK((*small)[0].count == 3);
  CHECK((*small)[0].suppressed);
  CHECK((*small)[0].primary);
  auto large = Protect(0, {{{}, 7}}, Options{5});
  REQUIRE(large.ok());
  REQUIRE(large->size() == 1);
  CHECK_FALSE((*large)[0].suppressed);
  CHECK(RecomputableCells(0, *small).empty());
  auto empty = Protect(0, {}, Options{5});
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}

TEST_CASE("malformed input is refused", "[sdc]") {
  auto error = [](size_t dims, std::vector<InteriorCell> interior, int64_t threshold = 5) {
    auto cells = Protect(dims, interior, Options{threshold});
    REQUIRE_FALSE(cells.ok());
    CHECK(cells.status().code() == Code::kInvalidArgument);
    return cells.status().message();
  };
  CHECK(error(2, {{{"a", "x"}, 1}, {{"b"}, 2}}) == "interior[1]: has 1 values, expected 2");
  CHECK(error(2, {{{"a", "_T"}, 4}}) ==
        "interior[0]: the value of dimension 1 is the total code \"_T\"");
  CHECK(error(1, {{{"a"}, 0}}) == "interior[0]: count must be positive");
  CHECK(error(1, {{{"a"}, -2}}) == "interior[0]: count must be positive");
  CHECK(error(2, {{{"a", "x"}, 1}, {{"b", "x"}, 2}, {{"a", "x"}, 3}}) ==
        "interior[0] and interior[2] have the same values");
  CHECK(error(0, {{{}, 1}, {{}, 2}}) == "interior[0] and interior[1] have the same values");
  CHECK(error(7, {}) == "dims: at most 6, got 7");
  CHECK(error(1, {{{"a"}, 1}}, -1) == "threshold: must not be negative");
  CHECK(error(1, {{{"a"}, INT64_MAX}, {{"b"}, 1}}) ==
        "interior[1]: the grand total overflows int64");
}

// A table with domain sizes 1..max_domain, 70% of its cells non-zero,
// counts 1..20, rows in random order.
std::vector<InteriorCell> RandomTable(std::mt19937& random, size_t dims, int max_domain) {
  auto uniform = [&](int low, int high) {
    return std::uniform_int_distribution<int>(low, high)(random);
  };
  std::vector<int> domain(dims), at(dims, 0);
  for (int& size : domain) size = uniform(1, max_domain);
  std::vector<InteriorCell> interior;
  for (bool more = true; more;) {
    if (uniform(0, 9) < 7) {
      Values values;
      for (size_t d = 0; d < dims; ++d) values.push_back(std::string(1, char('a' + at[d])));
      interior.push_back(InteriorCell{values, uniform(1, 20)});
    }
    size_t d = 0;
    while (d < dims && ++at[d] == domain[d]) at[d++] = 0;
    more = d < dims;
  }
  std::shuffle(interior.begin(), interior.end(), random);
  return interior;
}

TEST_CASE("random tables: every property holds", "[sdc]") {
  std::mt19937 random(20240611);
  size_t repaired = 0;
  for (int table = 0; table < 300; ++table) {
    const size_t dims = 1 + table % 4;
    std::vector<InteriorCell> interior = RandomTable(random, dims, dims <= 2 ? 6 : 4);
    INFO("table " << table << ", " << dims << " dimensions, " << interior.size() << " cells");
    auto cells = Protect(dims, interior, Options{5});
    REQUIRE(cells.ok());
    CheckProtected(dims, interior, *cells, 5);
    // The pattern depends on the table, not on the order its rows arrive in.
    std::shuffle(interior.begin(), interior.end(), random);
    auto again = Protect(dims, interior, Options{5});
    REQUIRE(again.ok());
    CHECK(Suppressed(*again) == Suppressed(*cells));
    auto line_rule_only = Protect(dims, interior, Options{5, 0});
    REQUIRE(line_rule_only.ok());
    if (!RecomputableCells(dims, *line_rule_only).empty()) ++repaired;
  }
  CHECK(repaired > 0);  // the exact check is not idle on these tables
}

// Rank modulo 1e9+7 of `rows` without column `skip`.
size_t Rank(std::vector<std::vector<int64_t>> rows, size_t columns, size_t skip) {
  constexpr int64_t kP = 1000000007;
  auto power = [](int64_t base, int64_t exponent) {
    int64_t result = 1;
    for (; exponent > 0; exponent >>= 1, base = base * base % kP) {
      if (exponent & 1) result = result * base % kP;
    }
    return result;
  };
  size_t rank = 0;
  for (size_t col = 0; col < columns && rank < rows.size(); ++col) {
    if (col == skip) continue;
    size_t pivot = rank;
    while (pivot < rows.size() && rows[pivot][col] == 0) ++pivot;
    if (pivot == rows.size()) continue;
    std::swap(rows[rank], rows[pivot]);
    const int64_t inverse = power(rows[rank][col], kP - 2);
    for (size_t r = rank + 1; r < rows.size(); ++r) {
      const int64_t factor = rows[r][col] * inverse % kP;
      for (size_t x = 0; x < columns; ++x) {
        rows[r][x] = ((rows[r][x] - factor * rows[rank][x]) % kP + kP) % kP;
      }
    }
    ++rank;
  }
  return rank;
}

// A different criterion from the implementation's: the suppressed cell i is
// determined iff dropping its column from the line equations lowers the rank.
std::vector<size_t> DeterminedByRank(size_t dims, const std::vector<Cell>& cells) {
  const std::vector<size_t> unknowns = Suppressed(cells);
  std::vector<std::vector<int64_t>> rows;
  for (const Line& line : Lines(dims, cells)) {
    std::vector<int64_t> row(unknowns.size(), 0);
    for (size_t u = 0; u < unknowns.size(); ++u) {
      if (unknowns[u] == line.total) row[u] = 1000000006;  // -1
      if (std::count(line.members.begin(), line.members.end(), unknowns[u])) row[u] = 1;
    }
    if (std::count(row.begin(), row.end(), 0) < std::ssize(row)) rows.push_back(row);
  }
  const size_t full = Rank(rows, unknowns.size(), unknowns.size());
  std::vector<size_t> determined;
  for (size_t u = 0; u < unknowns.size(); ++u) {
    if (Rank(rows, unknowns.size(), u) < full) determined.push_back(unknowns[u]);
  }
  return determined;
}

TEST_CASE("RecomputableCells agrees with a rank test", "[sdc]") {
  std::mt19937 random(7);
  size_t compared = 0, none = 0, some = 0, all = 0;
  auto compare = [&](size_t dims, const std::vector<Cell>& cells) {
    const size_t suppressed = Suppressed(cells).size();
    if (suppressed > 40) return;  // keep the quadratic number of rank tests cheap
    const std::vector<size_t> determined = DeterminedByRank(dims, cells);
    CHECK(RecomputableCells(dims, cells) == determined);
    ++compared;
    ++(determined.empty() ? none : determined.size() == suppressed ? all : some);
  };
  for (int table = 0; table < 200; ++table) {
    const size_t dims = 2 + table % 3;
    const std::vector<InteriorCell> interior = RandomTable(random, dims, dims == 2 ? 6 : 4);
    INFO("table " << table << ", " << dims << " dimensions");
    auto line_rule_only = Protect(dims, interior, Options{5, 0});
    REQUIRE(line_rule_only.ok());
    compare(dims, *line_rule_only);
    std::vector<Cell> scattered = Unprotected(dims, interior);  // any pattern at all
    for (Cell& cell : scattered) cell.suppressed = random() % 4 == 0;
    compare(dims, scattered);
  }
  CHECK(compared > 200);
  CHECK(none > 0);
  CHECK(some > 0);
  CHECK(all > 0);
}

}  // namespace
}  // namespace gw::sdc
