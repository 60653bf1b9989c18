// GET /v1/unhcr/population and GET /v1/unhcr/demographics: the gateway's
// aggregates in the shape of UNHCR's Refugee Population Statistics API, so
// that scripts written against that API work here (docs/api.md).
//
// Each answer is made of ordinary aggregate queries, one per reference date
// (a `year` means, per country, the current snapshot with the latest
// reference date in that year), so the numbers pass through the same grants,
// disclosure control, budget and audit as /v1/aggregates.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "gateway/http/api.h"
#include "gateway/schema/codelists.h"

namespace gw::http {
namespace {

struct UnhcrParams {
  std::vector<int> years;  // empty: the latest year with data
  std::vector<std::string> coo, coa;
  bool coo_all = false, coa_all = false;
  int64_t page = 1, limit = 100;
};

Result<bool> ParseBool(const std::string& name, const std::string& v) {
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0" || v.empty()) return false;
  return Status::InvalidArgument("parameter \"" + name + "\" must be true or false");
}

Result<int64_t> ParsePositive(const std::string& name, const std::string& v, int64_t max) {
  if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos ||
      std::stoll(v) < 1 || std::stoll(v) > max) {
    return Status::InvalidArgument("parameter \"" + name + "\" must be a whole number from 1 to " +
                                   std::to_string(max));
  }
  return std::stoll(v);
}

Result<std::vector<std::string>> ParseCountries(const std::string& name, const std::string& v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    std::string code = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (CodeLists::Get().CountryByAlpha3(code) == nullptr) {
      return Status::InvalidArgument("parameter \"" + name + "\": unknown ISO 3166-1 alpha-3 code \"" +
                                     code + "\" (this gateway answers with cf_type=ISO codes only)");
    }
    if (std::find(out.begin(), out.end(), code) == out.end()) out.push_back(code);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Result<UnhcrParams> ParseUnhcrParams(const Request& request) {
  UnhcrParams p;
  std::set<std::string> seen;
  for (const auto& [k, v] : request.query) {
    if (!seen.insert(k).second) {
      return Status::InvalidArgument("parameter \"" + k + "\" is given more than once");
    }
    if (k == "year") {
      size_t start = 0;
      while (true) {
        size_t comma = v.find(',', start);
        std::string y = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (y.size() != 4 || y.find_first_not_of("0123456789") != std::string::npos) {
          return Status::InvalidArgument("parameter \"year\" must be a year such as 2019 (or a comma list)");
        }
        p.years.push_back(std::stoi(y));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else if (k == "coo" || k == "coa") {
      GW_ASSIGN_OR_RETURN(auto list, ParseCountries(k, v));
      (k == "coo" ? p.coo : p.coa) = std::move(list);
    } else if (k == "coo_all" || k == "coa_all") {
      GW_ASSIGN_OR_RETURN(bool b, ParseBool(k, v));
      (k == "coo_all" ? p.coo_all : p.coa_all) = b;
    } else if (k == "cf_type") {
      if (v != "ISO") {
        return Status::InvalidArgument("parameter \"cf_type\": only ISO is supported (country codes are ISO 3166-1 alpha-3)");
      }
    } else if (k == "page") {
      GW_ASSIGN_OR_RETURN(p.page, ParsePositive(k, v, 1000000));
    } else if (k == "limit") {
      GW_ASSIGN_OR_RETURN(p.limit, ParsePositive(k, v, 10000));
    } else {
      return Status::InvalidArgument("unknown parameter \"" + k +
                                     "\" (known: year, coo, coa, coo_all, coa_all, cf_type, page, limit)");
    }
  }
  return p;
}

// A combined figure: null when any part is suppressed or below threshold.
struct Figure {
  std::optional<int64_t> value = 0;
  char status = 'A';
  void Add(const ResultCell& c) {
    if (c.status == 'Q' || !c.value || !value) {
      value.reset();
      status = 'Q';
    } else {
      *value += *c.value;
      if (c.status == 'E') status = 'E';
    }
  }
};

nlohmann::ordered_json FigureJson(const Figure* f) {
  if (f == nullptr) return 0;  // granted, nothing listed
  return f->value ? nlohmann::ordered_json(*f->value) : nlohmann::ordered_json(nullptr);
}

std::string CountryName(const std::string& code) {
  const Country* c = CodeLists::Get().CountryByAlpha3(code);
  return c == nullptr ? code : c->name;
}

void AddCountryFields(nlohmann::ordered_json& item, const std::string& coo, const std::string& coa) {
  for (const auto& [prefix, code] : {std::pair<std::string, std::string>{"coo", coo}, {"coa", coa}}) {
    bool none = code.empty();
    item[prefix + "_name"] = none ? "-" : CountryName(code);
    item[prefix] = none ? "-" : code;  // UNHCR's own codes are not kept: the ISO code
    item[prefix + "_iso"] = none ? "-" : code;
  }
}

// UNHCR's age suffixes for our bands.
std::string AgeSuffix(const std::string& band) {
  if (band == "unknown") return "other";
  if (band == "60+") return "60";
  std::string s = band;
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

// The per-(year, coo, coa) figures behind both endpoints.
struct UnhcrAnswer {
  std::vector<AggregateResult> results;  // every part, for the audit
  // (year, coo, coa, extra key) -> field -> figure; coo/coa empty when not broken down
  std::map<std::tuple<int, std::string, std::string, std::string>, std::map<std::string, Figure>> rows;
  std::set<std::string> included;
  std::vector<Exclusion> excluded;
};

// Runs one query (`dims` besides coa and coo, with `margins` over them) for
// every reference date the years resolve to and folds the cells into rows via
// `fold`. One query per date, so that its tables are paid for in one debit.
Result<UnhcrAnswer> Collect(
    Store& store, QueryEngine& engine, const Principal& who, const UnhcrParams& p,
    const std::vector<Dim>& dims, const std::vector<std::vector<Dim>>& margins,
    const std::function<void(UnhcrAnswer&, int year, const std::string& coo, const std::string& coa,
                             const ResultCell& cell, size_t first)>& fold) {
  GW_ASSIGN_OR_RETURN(auto snapshots, store.ListSnapshots(""));
  std::map<std::pair<int, std::string>, std::string> latest;  // (year, country) -> ref_date
  int newest_year = 0;
  for (const auto& s : snapshots) {
    if (!s.current) continue;
    int year = std::stoi(s.ref_date.substr(0, 4));
    newest_year = std::max(newest_year, year);
    auto& d = latest[{year, s.country}];
    d = std::max(d, s.ref_date);
  }
  std::vector<int> years = p.years.empty() ? std::vector<int>{newest_year} : p.years;
  // (year, ref_date) -> countries
  std::map<std::pair<int, std::string>, std::vector<std::string>> groups;
  for (const auto& [key, ref_date] : latest) {
    const auto& [year, country] = key;
    if (std::find(years.begin(), years.end(), year) == years.end()) continue;
    if (!p.coa.empty() && std::find(p.coa.begin(), p.coa.end(), country) == p.coa.end()) continue;
    groups[{year, ref_date}].push_back(country);
  }
  if (groups.empty()) return Status::NotFound("no snapshot in the requested years and countries");

  UnhcrAnswer answer;
  std::optional<Status> first_error;
  const bool by_coo = p.coo_all || !p.coo.empty();
  const bool by_coa = p.coa_all || !p.coa.empty();
  for (const auto& [key, countries] : groups) {
    const auto& [year, ref_date] = key;
    {
      AggregateQuery q;
      q.ref_date = *ParseIsoDate(ref_date);
      q.by = {Dim::kCoa};
      if (by_coo) q.by.push_back(Dim::kCoo);
      for (Dim d : dims) q.by.push_back(d);
      for (auto margin : margins) {
        if (by_coo) margin.push_back(Dim::kCoo);
        q.margins.push_back(std::move(margin));
      }
      q.filters[DimIndex(Dim::kCoa)] = countries;
      q.coa_named = !p.coa.empty();
      q.filters[DimIndex(Dim::kCoo)] = p.coo;
      auto result = engine.Aggregate(q, who);
      if (!result.ok()) {
        if (!first_error) first_error = result.status();
        if (result.status().code() == Code::kResourceExhausted && q.coa_named) return result.status();
        continue;
      }
      for (const auto& cell : result->cells) {
        std::string coa = by_coa ? cell.values[0] : "";
        std::string coo = by_coo ? cell.values[1] : "";
        fold(answer, year, coo, coa, cell, by_coo ? 2 : 1);
      }
      for (const auto& c : result->included) answer.included.insert(c);
      for (const auto& e : result->excluded) {
        bool known = false;
        for (const auto& x : answer.excluded) known |= x.country == e.country && x.reason == e.reason;
        if (!known) answer.excluded.push_back(e);
      }
      answer.results.push_back(std::move(result).value());
    }
  }
  if (answer.results.empty()) return first_error.value_or(Status::NotFound("no data"));
  return answer;
}

nlohmann::ordered_json Envelope(std::vector<nlohmann::ordered_json> items, const UnhcrParams& p,
                                const UnhcrAnswer& a) {
  nlohmann::ordered_json j;
  const int64_t total = static_cast<int64_t>(items.size());
  j["page"] = p.page;
  j["maxPages"] = std::max<int64_t>(1, (total + p.limit - 1) / p.limit);
  j["total"] = total;
  j["limit"] = p.limit;
  auto& out = j["items"] = nlohmann::ordered_json::array();
  for (int64_t i = (p.page - 1) * p.limit; i < std::min(total, p.page * p.limit); ++i) {
    out.push_back(std::move(items[static_cast<size_t>(i)]));
  }
  // Beyond UNHCR's envelope: what the numbers are and where they come from.
  j["countries"]["included"] = a.included;
  j["countries"]["excluded"] = nlohmann::ordered_json::array();
  for (const auto& e : a.excluded) j["countries"]["excluded"].push_back({{"country", e.country}, {"reason", e.reason}});
  auto& sources = j["sources"] = nlohmann::ordered_json::array();
  auto& budget = j["budget"] = nlohmann::ordered_json::array();
  for (const auto& r : a.results) {
    for (const auto& s : r.sources) {
      sources.push_back({{"country", s.country}, {"ref_date", r.ref_date}, {"version", s.version},
                         {"mechanism", s.mechanism}});
    }
    for (const auto& b : r.budget) {
      budget.push_back({{"country", b.country}, {"ref_date", r.ref_date},
                        {"cost", nlohmann::ordered_json::parse(FormatMicro(b.cost_micro))},
                        {"remaining", nlohmann::ordered_json::parse(FormatMicro(b.budget_micro - b.spent_micro))}});
    }
  }
  return j;
}

std::string QueryText(const std::string& endpoint, const Request& request) {
  std::vector<std::pair<std::string, std::string>> params = request.query;
  std::sort(params.begin(), params.end());
  std::string text = endpoint + "?";
  for (const auto& [k, v] : params) text += k + "=" + v + "&";
  text.pop_back();
  return text;
}

}  // namespace

Response Api::UnhcrPopulation(const Request& request) {
  auto who = Authenticate(request);
  if (!who.ok()) return ErrorFromStatus(who.status());
  auto params = ParseUnhcrParams(request);
  if (!params.ok()) return ErrorFromStatus(params.status());
  auto answer = Collect(
      deployment_.store(), engine_, *who, *params, {Dim::kPopType}, {},
      [](UnhcrAnswer& a, int year, const std::string& coo, const std::string& coa,
         const ResultCell& cell, size_t first) {
        a.rows[{year, coo, coa, ""}][cell.values[first]].Add(cell);
      });
  if (!answer.ok()) return ErrorFromStatus(answer.status());

  std::vector<nlohmann::ordered_json> items;
  for (const auto& [key, figures] : answer->rows) {
    const auto& [year, coo, coa, unused] = key;
    nlohmann::ordered_json item;
    item["year"] = year;
    AddCountryFields(item, coo, coa);
    nlohmann::ordered_json status = nlohmann::ordered_json::object();
    for (const auto& p : CodeLists::Get().pop_types()) {
      std::string field = p.Extra("unhcr_field");
      if (field.empty()) continue;  // e.g. labour migrants: not a UNHCR figure
      auto it = figures.find(p.code);
      if (p.Extra("in_registers") != "yes") {
        item[field] = "-";  // the registers do not hold this population
        continue;
      }
      item[field] = FigureJson(it == figures.end() ? nullptr : &it->second);
      status[field] = std::string(1, it == figures.end() ? 'A' : it->second.status);
    }
    item["status"] = std::move(status);
    items.push_back(std::move(item));
  }
  std::vector<const AggregateResult*> parts;
  for (const auto& res : answer->results) parts.push_back(&res);
  return Release(*who, QueryText("unhcr/population", request), parts,
                 Envelope(std::move(items), *params, *answer).dump(),
                 AcceptsGzip(request.Header("accept-encoding")));
}

Response Api::UnhcrDemographics(const Request& request) {
  auto who = Authenticate(request);
  if (!who.ok()) return ErrorFromStatus(who.status());
  auto params = ParseUnhcrParams(request);
  if (!params.ok()) return ErrorFromStatus(params.status());
  // Three tables (sex and age; sex; population type alone), so that the
  // totals are protected values of their own, never sums of hidden cells.
  auto answer = Collect(
      deployment_.store(), engine_, *who, *params, {Dim::kPopType, Dim::kSex, Dim::kAge},
      {{Dim::kPopType, Dim::kSex}, {Dim::kPopType}},
      [](UnhcrAnswer& a, int year, const std::string& coo, const std::string& coa,
         const ResultCell& cell, size_t first) {
        const std::string& pop_type = cell.values[first];
        const std::string& sex = cell.values[first + 1];
        const std::string& age = cell.values[first + 2];
        std::string field = "total";
        if (sex != kTotalCode) {
          std::string s = sex == "F" ? "f" : "m";
          field = age == kTotalCode ? s + "_total" : s + "_" + AgeSuffix(age);
        }
        a.rows[{year, coo, coa, pop_type}][field].Add(cell);
      });
  if (!answer.ok()) return ErrorFromStatus(answer.status());

  std::vector<std::string> fields;
  for (const char* sex : {"f", "m"}) {
    for (const auto& band : CodeLists::Get().age_bands()) fields.push_back(std::string(sex) + "_" + AgeSuffix(band.code));
    fields.push_back(std::string(sex) + "_total");
  }
  fields.push_back("total");
  std::vector<nlohmann::ordered_json> items;
  for (const auto& [key, figures] : answer->rows) {
    const auto& [year, coo, coa, pop_type] = key;
    bool unhcr_type = false;
    for (const auto& p : CodeLists::Get().pop_types()) unhcr_type |= p.code == pop_type && !p.Extra("unhcr_field").empty();
    if (!unhcr_type) continue;
    nlohmann::ordered_json item;
    item["year"] = year;
    AddCountryFields(item, coo, coa);
    item["population_type"] = pop_type;
    nlohmann::ordered_json status = nlohmann::ordered_json::object();
    for (const auto& f : fields) {
      auto it = figures.find(f);
      item[f] = FigureJson(it == figures.end() ? nullptr : &it->second);
      status[f] = std::string(1, it == figures.end() ? 'A' : it->second.status);
    }
    item["status"] = std::move(status);
    items.push_back(std::move(item));
  }
  std::vector<const AggregateResult*> parts;
  for (const auto& res : answer->results) parts.push_back(&res);
  return Release(*who, QueryText("unhcr/demographics", request), parts,
                 Envelope(std::move(items), *params, *answer).dump(),
                 AcceptsGzip(request.Header("accept-encoding")));
}

}  // namespace gw::http
