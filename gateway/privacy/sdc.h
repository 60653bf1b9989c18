// Statistical disclosure control by cell suppression over a full table lattice.
//
// A count table over k dimensions is protected once, together with every one
// of its 2^k - 1 margins (some dimensions replaced by the total code "_T").
// Any table a consumer may ask for (a subset of the dimensions, with or
// without totals) is then a projection of this one pattern, so answers to
// different queries together reveal no more than the whole protected lattice.
//
// Terms. A cell's *node* is the set of its dimensions that are not "_T". A
// *line* is a node N, one dimension d in N and fixed values for the other
// dimensions of N: its members are the listed cells of N with those values
// (d varies) and its total is the cell of N \ {d} with those values and
// d = "_T"; additivity says sum(members) = total. Zero cells are not listed:
// an absent cell is a published zero.
//
// Protect suppresses
//   1. every cell with 0 < count < threshold (primary; margins included);
//   2. until a fixed point, one more entry of every line that hides exactly
//      one entry: its published member with the smallest count (ties: the
//      smallest values), or its total when no member is published;
//   3. while at most Options::exact_check_limit cells are suppressed, one
//      more entry next to every suppressed cell that RecomputableCells still
//      reports, followed by step 2 again, until none is recomputable.
// The pattern depends only on the table, not on the order of its cells.
// Above the limit the result satisfies step 2 only: every line then hides 0
// or at least 2 entries, but suppressed cells may still be derivable from
// several lines together. In two dimensions that is the exception. From three
// on it is the rule, often for every suppressed cell: each lies in `dims`
// lines and a line needs only two hidden entries, so there are more equations
// than unknowns.
//
// RecomputableCells solves the additivity equations exactly: the unknowns are
// the suppressed cells, and a cell is recomputable when its unit vector lies
// in the row space of the equations' coefficients (computed modulo the prime
// 2^61 - 1).
//
// Thread-safety: stateless functions; safe to call from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "gateway/common/status.h"

namespace gw::sdc {

// The value of a dimension that is summed over.
inline constexpr const char* kTotalCode = "_T";

// The most dimensions a table may have (the lattice has 2^dims nodes).
inline constexpr size_t kMaxDims = 6;

// One non-zero cell of the exact interior table.
struct InteriorCell {
  std::vector<std::string> values;  // one per dimension, none is kTotalCode
  int64_t count = 0;                // > 0
};

// One cell of the protected lattice.
struct Cell {
  std::vector<std::string> values;  // kTotalCode for a summed dimension
  int64_t count = 0;                // exact; never publish it when `suppressed`
  bool suppressed = false;
  bool primary = false;  // suppressed because count < threshold
};

struct Options {
  int64_t threshold = 0;  // cells with 0 < count < threshold are suppressed
  // The exact recomputability check (step 3) runs while at most this many
  // cells are suppressed: each round solves a dense system of (lines with a
  // suppressed entry) x (suppressed cells): memory grows quadratically with
  // this limit and time at worst cubically.
  size_t exact_check_limit = 400;
};

// Returns the full lattice of the `dims`-dimensional table whose non-zero
// interior cells are `interior`: the interior cells and every non-zero margin
// cell, with the suppression pattern described above, sorted by `values`
// (compared lexicographically, "_T" as an ordinary string).
//
// InvalidArgument, naming the problem and the position of the offending cell
// (never its values), when dims > kMaxDims, threshold < 0, a cell does not
// have `dims` values, a value is kTotalCode, a count is not positive, two
// cells have the same values, or the grand total overflows int64_t.
Result<std::vector<Cell>> Protect(size_t dims, const std::vector<InteriorCell>& interior,
                                  const Options& options);

// Returns the indices (ascending, into `cells`) of the suppressed cells whose
// exact value follows from the published cells by the additivity equations.
// `cells` is a lattice pattern such as Protect returns: distinct `values`
// vectors of size `dims`; only `values` and `suppressed` are read, and
// missing cells count as published zeros. Cells of the wrong size are ignored.
std::vector<size_t> RecomputableCells(size_t dims, const std::vector<Cell>& cells);

}  // namespace gw::sdc
