#include "gateway/query/aggregate_query.h"

#include <algorithm>
#include <set>

#include "gateway/schema/codelists.h"

namespace gw {
namespace {

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

bool IsKnownCode(Dim d, const std::string& code) {
  const auto& c = CodeLists::Get();
  switch (d) {
    case Dim::kCoa: {
      const Country* country = c.CountryByAlpha3(code);
      return country != nullptr && !country->alpha2.empty();
    }
    case Dim::kCoo: return c.CountryByAlpha3(code) != nullptr;
    case Dim::kPopType: return c.IsPopType(code);
    case Dim::kSex: return c.IsSex(code);
    case Dim::kAge: return c.IsAgeBand(code);
    case Dim::kRegion: return c.RegionByCode(code) != nullptr;
  }
  return false;
}

}  // namespace

bool AggregateQuery::BreaksDown(Dim d) const {
  return std::find(by.begin(), by.end(), d) != by.end();
}

Result<AggregateQuery> ParseAggregateQuery(
    const std::vector<std::pair<std::string, std::string>>& params) {
  AggregateQuery q;
  std::set<std::string> seen;
  bool has_ref_date = false;
  std::vector<std::string> unknown;
  for (const auto& [name, value] : params) {
    if (!seen.insert(name).second) {
      return Status::InvalidArgument("parameter \"" + name +
                                     "\" is given more than once; use one comma-separated list");
    }
    if (name == "ref_date") {
      auto d = ParseIsoDate(value);
      if (!d) {
        return Status::InvalidArgument("parameter \"ref_date\" must be a real date YYYY-MM-DD");
      }
      q.ref_date = *d;
      has_ref_date = true;
    } else if (name == "by") {
      if (value.empty()) continue;
      for (const auto& item : SplitList(value)) {
        auto d = DimFromName(item);
        if (!d) {
          return Status::InvalidArgument("parameter \"by\": unknown dimension \"" + item +
                                         "\" (known: coa, coo, pop_type, sex, age, region)");
        }
        if (q.BreaksDown(*d)) {
          return Status::InvalidArgument("parameter \"by\": dimension \"" + item + "\" is listed twice");
        }
        q.by.push_back(*d);
      }
    } else if (name == "totals") {
      if (value != "true" && value != "false") {
        return Status::InvalidArgument("parameter \"totals\" must be true or false");
      }
      q.totals = value == "true";
    } else if (name == "format") {
      if (value != "json" && value != "csv" && value != "sdmx-csv" && value != "sdmx-json") {
        return Status::InvalidArgument("parameter \"format\" must be json, csv, sdmx-csv or sdmx-json");
      }
      q.format = value;
      q.format_given = true;
    } else if (auto d = DimFromName(name)) {
      auto& list = q.filters[DimIndex(*d)];
      for (const auto& code : SplitList(value)) {
        if (!IsKnownCode(*d, code)) {
          return Status::InvalidArgument("parameter \"" + name + "\": unknown code \"" + code + "\"");
        }
        if (std::find(list.begin(), list.end(), code) == list.end()) list.push_back(code);
      }
    } else {
      unknown.push_back(name);
    }
  }
  if (!unknown.empty()) {
    std::string names;
    for (const auto& u : unknown) names += (names.empty() ? "\"" : ", \"") + u + "\"";
    return Status::InvalidArgument("unknown parameter" + std::string(unknown.size() > 1 ? "s " : " ") +
                                   names + " (known: ref_date, by, coa, coo, pop_type, sex, age, "
                                   "region, totals, format)");
  }
  if (!has_ref_date) return Status::InvalidArgument("parameter \"ref_date\" is required");
  for (Dim d : kAllDims) {
    if (!q.filters[DimIndex(d)].empty() && !q.BreaksDown(d)) q.by.push_back(d);
  }
  return q;
}

}  // namespace gw
