// The aggregates query: parsing and validating the parameters of
// GET /v1/aggregates into a canonical AggregateQuery.
//
//   ref_date  required, YYYY-MM-DD
//   by        comma list of coa, coo, pop_type, sex, age, region
//   coa, coo, pop_type, sex, age, region   comma lists of codes (filters);
//             a filtered dimension is always broken down
//   totals    true | false (default): add every margin, "_T" marking a summed dimension
//   format    json (default) | csv | sdmx-csv | sdmx-json
//
// Unknown parameters, repeated parameters, unknown dimensions and codes that
// are not in the code lists are errors that name them.
//
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "gateway/common/date.h"
#include "gateway/common/status.h"
#include "gateway/schema/dimensions.h"

namespace gw {

struct AggregateQuery {
  Date ref_date;
  std::vector<Dim> by;  // broken-down dimensions: `by` in the order given, then filtered ones
  std::array<std::vector<std::string>, kDimCount> filters;  // empty: no filter
  bool totals = false;
  // coa= was given by the consumer (each named country must answer in full);
  // false when a caller restricts countries on the consumer's behalf.
  bool coa_named = true;
  // Margins wanted besides `by` (subsets of it, without coa), released in the
  // same answer and paid for in one debit; set by callers, not by parameters.
  std::vector<std::vector<Dim>> margins;
  std::string format = "json";
  bool format_given = false;  // by a format= parameter (else the caller may negotiate it)

  bool BreaksDown(Dim d) const;
};

Result<AggregateQuery> ParseAggregateQuery(
    const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace gw
