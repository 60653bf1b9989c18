// RFC 9110 lists with weights (section 12.4.2), as in Accept and
// Accept-Encoding: "value *( OWS ";" OWS param ) , ...". Shared by the
// negotiation of formats (Accept) and of content codings (Accept-Encoding).
//
// Thread-safety: free functions without shared state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gw {

struct WeightedItem {
  std::string value;  // lower-cased ASCII, without parameters or surrounding white space
  int weight = 1000;  // q in thousandths: 0 (not acceptable) to 1000 (the default)
};

// The field's items in order. An item with a malformed q (a value that is not
// an RFC 9110 qvalue, or a q without one) is left out rather than trusted, as
// is an empty one. Parameters other than q are dropped; separators inside
// double-quoted parameter values do not split.
std::vector<WeightedItem> ParseWeightedList(std::string_view field);

}  // namespace gw
