#include "gateway/schema/codelists.h"

#include <cstdlib>
#include <stdexcept>

namespace gw::embedded {
extern const std::string_view codelist_countries;
extern const std::string_view codelist_regions;
extern const std::string_view codelist_pop_types;
extern const std::string_view codelist_sex;
extern const std::string_view codelist_age_bands;
}  // namespace gw::embedded

namespace gw {
namespace {

using Rows = std::vector<std::vector<std::string>>;

std::vector<std::string> SplitTabs(std::string_view line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t tab = line.find('\t', start);
    out.emplace_back(line.substr(start, tab == std::string_view::npos ? line.npos : tab - start));
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  return out;
}

// Header row first. The files are ours and compiled in: a malformed one is a
// build defect, so it aborts at start-up rather than serving wrong codes.
Rows ParseTsv(std::string_view text, size_t columns) {
  Rows t;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == text.npos ? text.npos : nl - pos);
    pos = nl == text.npos ? text.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    auto cells = SplitTabs(line);
    if (cells.size() != columns) std::abort();
    t.push_back(std::move(cells));
  }
  if (t.empty()) std::abort();
  return t;
}

std::vector<CodeEntry> Entries(std::string_view text) {
  size_t columns = SplitTabs(text.substr(0, text.find('\n'))).size();
  Rows t = ParseTsv(text, columns);
  std::vector<CodeEntry> out;
  for (size_t r = 1; r < t.size(); ++r) {
    CodeEntry e{t[r][0], t[r].size() > 1 ? t[r][1] : "", {}};
    for (size_t c = 1; c < t[r].size(); ++c) e.extra.emplace_back(t[0][c], t[r][c]);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

std::string CodeEntry::Extra(std::string_view column) const {
  for (const auto& [k, v] : extra)
    if (k == column) return v;
  return {};
}

CodeLists::CodeLists() {
  Rows c = ParseTsv(embedded::codelist_countries, 4);
  for (size_t r = 1; r < c.size(); ++r) {
    by_alpha3_[c[r][0]] = countries_.size();
    if (!c[r][2].empty()) by_numeric_[c[r][2]] = countries_.size();
    countries_.push_back(Country{c[r][0], c[r][1], c[r][2], c[r][3]});
  }
  Rows g = ParseTsv(embedded::codelist_regions, 4);
  for (size_t r = 1; r < g.size(); ++r) {
    region_by_code_[g[r][0]] = regions_.size();
    regions_.push_back(Region{g[r][0], g[r][1], g[r][2], g[r][3]});
  }
  pop_types_ = Entries(embedded::codelist_pop_types);
  sexes_ = Entries(embedded::codelist_sex);
  // age_bands.tsv: code, min_years, max_years, name, sdmx
  Rows a = ParseTsv(embedded::codelist_age_bands, 5);
  for (size_t r = 1; r < a.size(); ++r) {
    CodeEntry e{a[r][0], a[r][3], {}};
    for (size_t col = 1; col < a[r].size(); ++col) e.extra.emplace_back(a[0][col], a[r][col]);
    if (!a[r][1].empty()) {
      bands_.push_back(Band{std::atoi(a[r][1].c_str()),
                            a[r][2].empty() ? -1 : std::atoi(a[r][2].c_str()), age_bands_.size()});
    }
    age_bands_.push_back(std::move(e));
  }
}

const CodeLists& CodeLists::Get() {
  static const CodeLists lists;
  return lists;
}

const Country* CodeLists::CountryByAlpha3(std::string_view alpha3) const {
  auto it = by_alpha3_.find(std::string(alpha3));
  return it == by_alpha3_.end() ? nullptr : &countries_[it->second];
}

const Country* CodeLists::CountryByNumeric(std::string_view numeric) const {
  auto it = by_numeric_.find(std::string(numeric));
  return it == by_numeric_.end() ? nullptr : &countries_[it->second];
}

const Region* CodeLists::RegionByCode(std::string_view code) const {
  auto it = region_by_code_.find(std::string(code));
  return it == region_by_code_.end() ? nullptr : &regions_[it->second];
}

static bool Contains(const std::vector<CodeEntry>& list, std::string_view code) {
  for (const auto& e : list)
    if (e.code == code) return true;
  return false;
}

bool CodeLists::IsPopType(std::string_view code) const { return Contains(pop_types_, code); }
bool CodeLists::IsSex(std::string_view code) const { return Contains(sexes_, code); }
bool CodeLists::IsAgeBand(std::string_view code) const { return Contains(age_bands_, code); }

const std::string& CodeLists::AgeBandForYears(int years) const {
  for (const auto& b : bands_)
    if (years >= b.min && (b.max < 0 || years <= b.max)) return age_bands_[b.index].code;
  return UnknownAgeBand();
}

const std::string& CodeLists::AgeBandAt(const PartialDate& birth, const Date& ref) const {
  const std::optional<Date> at = birth.AgeReference();
  if (!at) return UnknownAgeBand();
  const int years = AgeInYears(*at, ref);
  return AgeBandForYears(years < 0 ? 0 : years);
}

const std::string& CodeLists::UnknownAgeBand() {
  static const std::string kUnknown = "unknown";
  return kUnknown;
}

std::string_view CodeLists::RawTsv(std::string_view name) {
  if (name == "countries") return embedded::codelist_countries;
  if (name == "regions") return embedded::codelist_regions;
  if (name == "pop_types") return embedded::codelist_pop_types;
  if (name == "sex") return embedded::codelist_sex;
  if (name == "age_bands") return embedded::codelist_age_bands;
  return {};
}

std::vector<std::vector<std::string>> CodeLists::Table(std::string_view name) {
  std::string_view tsv = RawTsv(name);
  if (tsv.empty()) return {};
  return ParseTsv(tsv, SplitTabs(tsv.substr(0, tsv.find('\n'))).size());
}

std::vector<std::string> CodeLists::Names() {
  return {"countries", "regions", "pop_types", "sex", "age_bands"};
}

}  // namespace gw
