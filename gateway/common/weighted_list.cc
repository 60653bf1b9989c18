#include "gateway/common/weighted_list.h"

#include <optional>

#include "gateway/common/text.h"

namespace gw {
namespace {

// Splits on `sep` outside double-quoted strings, so a quoted parameter value
// cannot break an element apart.
std::vector<std::string_view> SplitOutsideQuotes(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (quoted && s[i] == '\\') {
      ++i;  // quoted-pair
    } else if (s[i] == '"') {
      quoted = !quoted;
    } else if (!quoted && s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

// RFC 9110 weight, in thousandths: "0" ["." 0*3DIGIT] / "1" ["." 0*3("0")].
std::optional<int> ParseQuality(std::string_view v) {
  if (v.empty() || (v[0] != '0' && v[0] != '1')) return std::nullopt;
  int whole = v[0] - '0';
  std::string_view frac;
  if (v.size() > 1) {
    if (v[1] != '.' || v.size() > 5) return std::nullopt;
    frac = v.substr(2);
  }
  int thousandths = 0;
  int scale = 100;
  for (char c : frac) {
    if (c < '0' || c > '9') return std::nullopt;
    thousandths += (c - '0') * scale;
    scale /= 10;
  }
  if (whole == 1 && thousandths != 0) return std::nullopt;
  return whole * 1000 + thousandths;
}

}  // namespace

std::vector<WeightedItem> ParseWeightedList(std::string_view field) {
  std::vector<WeightedItem> items;
  for (std::string_view element : SplitOutsideQuotes(field, ',')) {
    std::vector<std::string_view> parts = SplitOutsideQuotes(element, ';');
    WeightedItem item{AsciiLower(TrimOws(parts[0])), 1000};
    if (item.value.empty()) continue;
    bool malformed = false;
    for (size_t i = 1; i < parts.size(); ++i) {
      std::string_view param = parts[i];
      const size_t eq = param.find('=');
      if (AsciiLower(TrimOws(param.substr(0, eq))) != "q") continue;  // version etc.: any
      std::optional<int> q =
          eq == std::string_view::npos ? std::nullopt : ParseQuality(TrimOws(param.substr(eq + 1)));
      if (!q) malformed = true;
      else item.weight = *q;
    }
    if (!malformed) items.push_back(std::move(item));
  }
  return items;
}

}  // namespace gw
