#include "gateway/privacy/sdc.h"

#include <algorithm>
#include <array>
#include <bit>
#include <limits>
#include <numeric>
#include <span>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace gw::sdc {
namespace {

__extension__ typedef unsigned __int128 u128;

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

// A cell as one code per dimension (unused trailing dimensions stay 0).
using Key = std::array<uint32_t, kMaxDims>;

// Not std::array's ==, which becomes an out-of-line memcmp call on the hottest path.
bool SameKey(const Key& a, const Key& b) {
  return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4]) |
          (a[5] ^ b[5])) == 0;
}

uint64_t HashKey(const Key& key) {
  uint64_t h = 0x9E3779B97F4A7C15ull;
  for (uint32_t code : key) {
    h = (h ^ code) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
  }
  return h;
}

// Open-addressing index from a key to its position in an external key vector.
// Why not std::unordered_map: a large table's lattice has millions of cells,
// each looked up once per dimension, and node allocations would dominate. A
// slot holds 32 bits of the key's hash beside the position, so probing and
// growing rarely touch the keys themselves.
class KeyIndex {
 public:
  KeyIndex(const std::vector<Key>& keys, size_t expected) : keys_(keys) {
    slots_.assign(std::bit_ceil(std::max<size_t>(expected * 2, 1024)), kEmpty);
  }

  uint32_t Find(const Key& key) const {
    const uint64_t tag = HashKey(key) >> 32;
    for (size_t slot = tag & (slots_.size() - 1);; slot = (slot + 1) & (slots_.size() - 1)) {
      const uint32_t at = static_cast<uint32_t>(slots_[slot]);
      if (at == kNone || ((slots_[slot] >> 32) == tag && SameKey(keys_[at], key))) return at;
    }
  }
  // Registers keys_[index], which the caller has appended and checked absent.
  void Insert(uint32_t index) {
    if (++size_ * 2 > slots_.size()) {
      std::vector<uint64_t> old = std::exchange(slots_, std::vector<uint64_t>(slots_.size() * 2));
      std::fill(slots_.begin(), slots_.end(), kEmpty);
      for (uint64_t entry : old) {
        if (entry != kEmpty) Place(entry);
      }
    }
    Place((HashKey(keys_[index]) >> 32 << 32) | index);
  }

 private:
  static constexpr uint64_t kEmpty = kNone;

  void Place(uint64_t entry) {
    size_t slot = (entry >> 32) & (slots_.size() - 1);
    while (slots_[slot] != kEmpty) slot = (slot + 1) & (slots_.size() - 1);
    slots_[slot] = entry;
  }

  const std::vector<Key>& keys_;
  std::vector<uint64_t> slots_;
  size_t size_ = 0;
};

// Per dimension, the distinct values and "_T", sorted: a value's code is its
// rank, so keys compare like the values' strings, the order of the contract.
struct Codebook {
  std::vector<std::vector<std::string>> names;
  std::vector<uint32_t> total;  // the code of "_T"

  uint32_t Code(size_t dim, std::string_view value) const {
    const auto& sorted = names[dim];
    return static_cast<uint32_t>(std::lower_bound(sorted.begin(), sorted.end(), value) -
                                 sorted.begin());
  }
  template <typename CellT>
  Key KeyOf(const CellT& cell) const {
    Key key{};
    for (size_t d = 0; d < names.size(); ++d) key[d] = Code(d, cell.values[d]);
    return key;
  }
};

// The codebook of the cells of `cells` that have `dims` values.
template <typename CellT>
Codebook MakeCodebook(size_t dims, const std::vector<CellT>& cells) {
  Codebook codes;
  codes.names.resize(dims);
  for (size_t d = 0; d < dims; ++d) {
    std::unordered_set<std::string_view> seen{kTotalCode};
    for (const CellT& cell : cells) {
      if (cell.values.size() == dims) seen.insert(cell.values[d]);
    }
    codes.names[d].assign(seen.begin(), seen.end());
    std::sort(codes.names[d].begin(), codes.names[d].end());
    codes.total.push_back(codes.Code(d, kTotalCode));
  }
  return codes;
}

// The lattice with its lines. Line (t, d), for a cell t whose dimension d is
// "_T", has id t * dims + d: t is its total and its members are the cells
// that differ from t only in dimension d.
struct Lattice {
  size_t dims = 0;
  std::vector<Key> keys;  // sorted, so a smaller position means smaller values
  std::vector<int64_t> counts;
  std::vector<uint32_t> up;          // [c * dims + d]: c with d made "_T"; kNone if it is
  std::vector<uint32_t> line_begin;  // members of line L: members[line_begin[L]..[L+1])
  std::vector<uint32_t> members;     // ascending within a line

  uint32_t size() const { return static_cast<uint32_t>(keys.size()); }
  uint32_t Total(uint32_t line) const { return static_cast<uint32_t>(line / dims); }
  // Calls f(line id) for the dims lines that contain cell c, as member or total.
  template <typename F>
  void ForEachLine(uint32_t c, F f) const {
    for (size_t d = 0; d < dims; ++d) {
      f(static_cast<uint32_t>((up[c * dims + d] != kNone ? up[c * dims + d] : c) * dims + d));
    }
  }
  template <typename F>
  void ForEachMember(uint32_t line, F f) const {
    for (uint32_t i = line_begin[line]; i < line_begin[line + 1]; ++i) f(members[i]);
  }
};

// The lattice spanned by `listed` (all their margins are added) with counts
// 0. Sets position[i] to the lattice position of listed[i].
Lattice BuildLattice(const Codebook& codes, const std::vector<Key>& listed,
                     std::vector<uint32_t>& position) {
  const size_t dims = codes.names.size();
  std::vector<Key> keys;
  KeyIndex index(keys, listed.size() * 4);
  auto find_or_add = [&](const Key& key) {
    const uint32_t found = index.Find(key);
    if (found != kNone) return found;
    keys.push_back(key);
    index.Insert(static_cast<uint32_t>(keys.size() - 1));
    return static_cast<uint32_t>(keys.size() - 1);
  };
  // Discover the margins of margins, recording each cell's parents as we go.
  std::vector<uint32_t> up;
  position.clear();
  for (const Key& key : listed) position.push_back(find_or_add(key));
  for (size_t c = 0; c < keys.size(); ++c) {
    up.resize((c + 1) * dims, kNone);
    for (size_t d = 0; d < dims; ++d) {
      if (keys[c][d] == codes.total[d]) continue;
      Key parent = keys[c];
      parent[d] = codes.total[d];
      up[c * dims + d] = find_or_add(parent);
    }
  }

  // Sort (key and old position side by side, for locality) and renumber.
  const uint32_t n = static_cast<uint32_t>(keys.size());
  std::vector<std::pair<Key, uint32_t>> sorted(n);
  for (uint32_t c = 0; c < n; ++c) sorted[c] = {keys[c], c};
  std::sort(sorted.begin(), sorted.end());
  std::vector<uint32_t> moved_to(n);
  for (uint32_t c = 0; c < n; ++c) moved_to[sorted[c].second] = c;
  for (uint32_t& at : position) at = moved_to[at];
  Lattice lattice;
  lattice.dims = dims;
  lattice.keys.resize(n);
  lattice.counts.assign(n, 0);
  lattice.up.assign(size_t{n} * dims, kNone);
  lattice.line_begin.assign(size_t{n} * dims + 1, 0);
  for (uint32_t c = 0; c < n; ++c) {
    lattice.keys[c] = sorted[c].first;
    for (size_t d = 0; d < dims; ++d) {
      const uint32_t parent = up[sorted[c].second * dims + d];
      if (parent == kNone) continue;
      lattice.up[c * dims + d] = moved_to[parent];
      ++lattice.line_begin[moved_to[parent] * dims + d + 1];
    }
  }
  std::partial_sum(lattice.line_begin.begin(), lattice.line_begin.end(),
                   lattice.line_begin.begin());
  lattice.members.resize(lattice.line_begin.back());
  std::vector<uint32_t> fill(lattice.line_begin.begin(), lattice.line_begin.end() - 1);
  for (uint32_t c = 0; c < n; ++c) {
    lattice.ForEachLine(c, [&](uint32_t line) {
      if (lattice.Total(line) != c) lattice.members[fill[line]++] = c;
    });
  }
  return lattice;
}

// --- Exact recomputability: Gaussian elimination modulo 2^61 - 1. ---

constexpr uint64_t kPrime = (uint64_t{1} << 61) - 1;

uint64_t MulMod(uint64_t a, uint64_t b) {
  const u128 product = static_cast<u128>(a) * b;
  uint64_t folded = static_cast<uint64_t>(product & kPrime) + static_cast<uint64_t>(product >> 61);
  folded = (folded & kPrime) + (folded >> 61);
  return folded >= kPrime ? folded - kPrime : folded;
}
uint64_t SubMod(uint64_t a, uint64_t b) { return a >= b ? a - b : a + kPrime - b; }
uint64_t InverseMod(uint64_t a) {  // Fermat: a^(p-2)
  uint64_t result = 1;
  for (uint64_t exponent = kPrime - 2; exponent != 0; exponent >>= 1, a = MulMod(a, a)) {
    if (exponent & 1) result = MulMod(result, a);
  }
  return result;
}

// Reduces `rows` to RREF and returns the pivot columns whose row has no other
// non-zero entry: exactly the unit vectors that lie in the row space.
std::vector<size_t> DeterminedColumns(std::vector<std::vector<uint64_t>>& rows, size_t columns) {
  std::vector<size_t> pivot_columns;
  for (size_t col = 0; col < columns && pivot_columns.size() < rows.size(); ++col) {
    const size_t rank = pivot_columns.size();
    size_t pivot = rank;
    while (pivot < rows.size() && rows[pivot][col] == 0) ++pivot;
    if (pivot == rows.size()) continue;
    std::swap(rows[rank], rows[pivot]);
    const uint64_t inverse = InverseMod(rows[rank][col]);
    std::vector<size_t> nonzero;  // the rows are sparse; touch only these columns
    for (size_t x = col; x < columns; ++x) {
      if (rows[rank][x] != 0) rows[rank][x] = MulMod(rows[rank][x], inverse), nonzero.push_back(x);
    }
    for (size_t r = 0; r < rows.size(); ++r) {
      const uint64_t factor = rows[r][col];
      if (r == rank || factor == 0) continue;
      for (size_t x : nonzero) rows[r][x] = SubMod(rows[r][x], MulMod(factor, rows[rank][x]));
    }
    pivot_columns.push_back(col);
  }
  std::vector<size_t> determined;
  for (size_t r = 0; r < pivot_columns.size(); ++r) {
    if (std::count(rows[r].begin(), rows[r].end(), uint64_t{0}) + 1 == std::ssize(rows[r])) {
      determined.push_back(pivot_columns[r]);
    }
  }
  return determined;
}

// The suppressed cells that the lines determine, ascending. One dense row
// per line with a suppressed entry: sum(suppressed members) - (total if
// suppressed) = the published values, which do not matter here.
std::vector<uint32_t> Recomputable(const Lattice& lattice, const std::vector<char>& suppressed) {
  std::vector<uint32_t> unknowns, lines;
  std::vector<size_t> unknown_of(lattice.size(), 0);
  for (uint32_t c = 0; c < lattice.size(); ++c) {
    if (!suppressed[c]) continue;
    unknown_of[c] = unknowns.size();
    unknowns.push_back(c);
    lattice.ForEachLine(c, [&](uint32_t line) { lines.push_back(line); });
  }
  std::sort(lines.begin(), lines.end());
  lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
  std::vector<std::vector<uint64_t>> rows(lines.size(), std::vector<uint64_t>(unknowns.size()));
  for (size_t r = 0; r < lines.size(); ++r) {
    lattice.ForEachMember(lines[r], [&](uint32_t member) {
      if (suppressed[member]) rows[r][unknown_of[member]] = 1;
    });
    const uint32_t total = lattice.Total(lines[r]);
    if (suppressed[total]) rows[r][unknown_of[total]] = kPrime - 1;
  }
  std::vector<uint32_t> result;
  for (size_t col : DeterminedColumns(rows, unknowns.size())) result.push_back(unknowns[col]);
  std::sort(result.begin(), result.end());
  return result;
}

// --- Protection: the suppression pattern of one lattice, grown monotonically. ---

class Protector {
 public:
  explicit Protector(const Lattice& lattice)
      : lattice_(lattice),
        suppressed_(lattice.size(), 0),
        line_suppressed_(size_t{lattice.size()} * lattice.dims, 0) {}

  const std::vector<char>& suppressed() const { return suppressed_; }
  size_t suppressed_count() const { return suppressed_count_; }

  void Suppress(uint32_t c) {
    if (suppressed_[c]) return;
    suppressed_[c] = 1;
    ++suppressed_count_;
    lattice_.ForEachLine(c, [&](uint32_t line) {
      if (++line_suppressed_[line] == 1) worklist_.push_back(line);
    });
  }

  // Step 2: only lines that gained their first suppression can hide exactly one entry.
  void ApplyLineRule() {
    while (!worklist_.empty()) {
      const uint32_t line = worklist_.back();
      worklist_.pop_back();
      if (line_suppressed_[line] != 1) continue;
      const uint32_t pick = Complement(std::span<const uint32_t>(&line, 1));
      if (pick != kNone) Suppress(pick);
    }
  }

  // Step 3: one more suppression per recomputable cell, taken from the cell's
  // own lines or, when they publish nothing, from the nearest lines reached
  // through suppressed cells. Returns false when nothing could be added.
  bool SuppressNextTo(const std::vector<uint32_t>& recomputable) {
    const size_t before = suppressed_count_;
    for (uint32_t c : recomputable) {
      std::vector<uint32_t> lines;  // breadth-first: one ring of lines after another
      std::unordered_set<uint32_t> seen;
      auto reach = [&](uint32_t cell) {
        lattice_.ForEachLine(cell, [&](uint32_t line) {
          if (seen.insert(line).second) lines.push_back(line);
        });
      };
      reach(c);
      for (size_t ring = 0, end = lines.size(); ring < end; ring = end, end = lines.size()) {
        const uint32_t pick = Complement(std::span(lines).subspan(ring, end - ring));
        if (pick != kNone) {
          Suppress(pick);
          break;
        }
        for (size_t i = ring; i < end; ++i) {
          lattice_.ForEachMember(lines[i], reach);
          reach(lattice_.Total(lines[i]));
        }
      }
    }
    return suppressed_count_ > before;
  }

 private:
  // The published member of `lines` with the smallest count (ties: smallest
  // values); failing that, the smallest published total; else kNone.
  uint32_t Complement(std::span<const uint32_t> lines) const {
    uint32_t best = kNone;
    auto consider = [&](uint32_t c) {
      if (suppressed_[c]) return;
      if (best == kNone || lattice_.counts[c] < lattice_.counts[best] ||
          (lattice_.counts[c] == lattice_.counts[best] && c < best)) {
        best = c;
      }
    };
    for (uint32_t line : lines) lattice_.ForEachMember(line, consider);
    if (best == kNone) {
      for (uint32_t line : lines) consider(lattice_.Total(line));
    }
    return best;
  }

  const Lattice& lattice_;
  std::vector<char> suppressed_;
  std::vector<uint32_t> line_suppressed_;  // per line id: suppressed members and total
  std::vector<uint32_t> worklist_;
  size_t suppressed_count_ = 0;
};

Status CheckInput(size_t dims, const std::vector<InteriorCell>& interior, const Options& options) {
  if (dims > kMaxDims) {
    return Status::InvalidArgument("dims: at most " + std::to_string(kMaxDims) + ", got " +
                                   std::to_string(dims));
  }
  if (options.threshold < 0) return Status::InvalidArgument("threshold: must not be negative");
  if (interior.size() >= kNone >> dims) return Status::InvalidArgument("interior: too many cells");
  int64_t grand_total = 0;
  for (size_t i = 0; i < interior.size(); ++i) {
    const InteriorCell& cell = interior[i];
    const std::string where = "interior[" + std::to_string(i) + "]: ";
    if (cell.values.size() != dims) {
      return Status::InvalidArgument(where + "has " + std::to_string(cell.values.size()) +
                                     " values, expected " + std::to_string(dims));
    }
    for (size_t d = 0; d < dims; ++d) {
      if (cell.values[d] == kTotalCode) {
        return Status::InvalidArgument(where + "the value of dimension " + std::to_string(d) +
                                       " is the total code \"_T\"");
      }
    }
    if (cell.count <= 0) return Status::InvalidArgument(where + "count must be positive");
    // Every margin is at most the grand total, so this is the only overflow check needed.
    if (__builtin_add_overflow(grand_total, cell.count, &grand_total)) {
      return Status::InvalidArgument(where + "the grand total overflows int64");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<Cell>> Protect(size_t dims, const std::vector<InteriorCell>& interior,
                                  const Options& options) {
  GW_RETURN_IF_ERROR(CheckInput(dims, interior, options));
  const Codebook codes = MakeCodebook(dims, interior);
  std::vector<Key> listed;
  for (const InteriorCell& cell : interior) listed.push_back(codes.KeyOf(cell));
  std::vector<uint32_t> position;
  Lattice lattice = BuildLattice(codes, listed, position);
  std::vector<uint32_t> listed_as(lattice.size(), kNone);
  for (uint32_t i = 0; i < position.size(); ++i) {
    if (listed_as[position[i]] != kNone) {
      return Status::InvalidArgument("interior[" + std::to_string(listed_as[position[i]]) +
                                     "] and interior[" + std::to_string(i) +
                                     "] have the same values");
    }
    listed_as[position[i]] = i;
    lattice.counts[position[i]] = interior[i].count;
  }

  // Step 1: a margin cell is the sum of the members of any of its lines.
  auto sum = [&](auto& self, uint32_t c) -> int64_t {
    if (lattice.counts[c] == 0) {  // a margin not summed yet
      size_t d = 0;
      while (lattice.up[c * dims + d] != kNone) ++d;
      lattice.ForEachMember(static_cast<uint32_t>(c * dims + d),
                            [&](uint32_t member) { lattice.counts[c] += self(self, member); });
    }
    return lattice.counts[c];
  };
  for (uint32_t c = 0; c < lattice.size(); ++c) sum(sum, c);

  // Steps 2 to 4.
  Protector protector(lattice);
  for (uint32_t c = 0; c < lattice.size(); ++c) {
    if (lattice.counts[c] < options.threshold) protector.Suppress(c);
  }
  protector.ApplyLineRule();
  while (protector.suppressed_count() > 0 &&
         protector.suppressed_count() <= options.exact_check_limit) {
    const std::vector<uint32_t> recomputable = Recomputable(lattice, protector.suppressed());
    if (recomputable.empty() || !protector.SuppressNextTo(recomputable)) break;
    protector.ApplyLineRule();
  }

  std::vector<Cell> cells(lattice.size());
  for (uint32_t c = 0; c < lattice.size(); ++c) {
    cells[c].values.reserve(dims);
    for (size_t d = 0; d < dims; ++d) cells[c].values.push_back(codes.names[d][lattice.keys[c][d]]);
    cells[c].count = lattice.counts[c];
    cells[c].suppressed = protector.suppressed()[c] != 0;
    cells[c].primary = lattice.counts[c] < options.threshold;
  }
  return cells;
}

std::vector<size_t> RecomputableCells(size_t dims, const std::vector<Cell>& cells) {
  if (dims > kMaxDims || cells.size() >= kNone >> dims) return {};
  const Codebook codes = MakeCodebook(dims, cells);
  std::vector<size_t> given;  // positions in `cells` of the well-formed cells
  std::vector<Key> listed;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (cells[i].values.size() != dims) continue;
    given.push_back(i);
    listed.push_back(codes.KeyOf(cells[i]));
  }
  // Margins missing from `cells` are added as published zeros.
  std::vector<uint32_t> position;
  const Lattice lattice = BuildLattice(codes, listed, position);
  std::vector<char> suppressed(lattice.size(), 0);
  for (size_t i = 0; i < given.size(); ++i) {
    if (cells[given[i]].suppressed) suppressed[position[i]] = 1;
  }
  const std::vector<uint32_t> recomputable = Recomputable(lattice, suppressed);
  std::vector<size_t> result;
  for (size_t i = 0; i < given.size(); ++i) {
    if (cells[given[i]].suppressed &&
        std::binary_search(recomputable.begin(), recomputable.end(), position[i])) {
      result.push_back(given[i]);
    }
  }
  return result;
}

}  // namespace gw::sdc
