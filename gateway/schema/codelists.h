// The shared code lists (countries, regions, population types, sex, age bands),
// loaded from the TSV files in schemas/codelists/ that are compiled into the
// binary. Nothing here is retyped in code.
//
// Thread-safety: CodeLists::Get() builds the lists once (thread-safe static
// initialisation); the object is immutable afterwards.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gateway/common/date.h"

namespace gw {

struct Country {
  std::string alpha3;   // "AFG", or "XXA" stateless, "UNK" unknown
  std::string alpha2;   // empty for XXA/UNK
  std::string numeric;  // "004"; empty for XXA/UNK
  std::string name;     // English short name
};

struct Region {
  std::string code;     // ISO 3166-2, e.g. "KZ-75"
  std::string country;  // alpha-3 of the country it belongs to
  std::string type;
  std::string name;
};

struct CodeEntry {
  std::string code;
  std::string name;
  std::vector<std::pair<std::string, std::string>> extra;  // further columns by header
  std::string Extra(std::string_view column) const;
};

class CodeLists {
 public:
  static const CodeLists& Get();

  const std::vector<Country>& countries() const { return countries_; }
  const std::vector<Region>& regions() const { return regions_; }
  const std::vector<CodeEntry>& pop_types() const { return pop_types_; }
  const std::vector<CodeEntry>& sexes() const { return sexes_; }
  const std::vector<CodeEntry>& age_bands() const { return age_bands_; }

  const Country* CountryByAlpha3(std::string_view alpha3) const;
  const Country* CountryByNumeric(std::string_view numeric) const;
  const Region* RegionByCode(std::string_view code) const;
  bool IsPopType(std::string_view code) const;
  bool IsSex(std::string_view code) const;
  bool IsAgeBand(std::string_view code) const;
  // The age band at `ref` of a person born on `birth` (FORMATS.md's common
  // rule: 1 July for an unknown month, the 15th for an unknown day, "unknown"
  // for an unknown year). A reference day that falls after `ref` for a child
  // born that year counts as age 0, not negative.
  const std::string& AgeBandAt(const PartialDate& birth, const Date& ref) const;
  // The age band for a whole number of years (>= 0).
  const std::string& AgeBandForYears(int years) const;
  static const std::string& UnknownAgeBand();

  // Raw TSV text of a list by name ("countries", "regions", "pop_types", "sex",
  // "age_bands"), for the /v1/codelists endpoint; empty if unknown.
  static std::string_view RawTsv(std::string_view name);
  // The same list as rows of cells, the header row first; empty if unknown.
  static std::vector<std::vector<std::string>> Table(std::string_view name);
  static std::vector<std::string> Names();

 private:
  CodeLists();
  std::vector<Country> countries_;
  std::vector<Region> regions_;
  std::vector<CodeEntry> pop_types_, sexes_, age_bands_;
  std::unordered_map<std::string, size_t> by_alpha3_, by_numeric_, region_by_code_;
  struct Band {
    int min, max;  // max < 0: open-ended
    size_t index;
  };
  std::vector<Band> bands_;
};

}  // namespace gw
