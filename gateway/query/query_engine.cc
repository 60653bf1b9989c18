#include "gateway/query/query_engine.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "gateway/schema/codelists.h"

namespace gw {
namespace {

// Why `grant` does not cover `q`, or empty if it does.
std::string CoverageGap(const Grant* grant, const AggregateQuery& q, std::vector<std::string>& pop_types) {
  if (grant == nullptr) return "no grant from this country to this consumer";
  for (Dim d : q.by) {
    if (!grant->AllowsDim(d)) {
      return "the grant does not cover the dimension \"" + std::string(DimName(d)) + "\"";
    }
  }
  const auto& filter = q.filters[DimIndex(Dim::kPopType)];
  if (!filter.empty()) {
    for (const auto& p : filter) {
      if (!grant->AllowsPopType(p)) return "the grant does not cover the population type \"" + p + "\"";
    }
    pop_types = filter;
    return {};
  }
  // Without a filter the answer would cover every population type. When the
  // types are broken down, showing just the granted ones is honest; when they
  // are summed, a partial sum would pass for a total, so refuse it.
  if (q.BreaksDown(Dim::kPopType)) {
    pop_types = grant->pop_types;
    return {};
  }
  for (const auto& p : CodeLists::Get().pop_types()) {
    if (p.Extra("in_registers") == "yes" && !grant->AllowsPopType(p.code)) {
      return "the grant covers only some population types; filter or break down by pop_type";
    }
  }
  return {};
}

}  // namespace

Result<AggregateResult> QueryEngine::Aggregate(const AggregateQuery& q, const Principal& who) {
  AggregateResult result;
  result.ref_date = q.ref_date.ToIso();
  result.by = q.by;
  std::shared_ptr<const Policy> policy = policies_.current();
  const Date today = TodayUtc();

  GW_ASSIGN_OR_RETURN(auto snapshots, store_.CurrentSnapshots(result.ref_date));
  const auto& coa_filter = q.filters[DimIndex(Dim::kCoa)];
  if (!coa_filter.empty()) {
    std::erase_if(snapshots, [&](const SnapshotInfo& s) {
      return std::find(coa_filter.begin(), coa_filter.end(), s.country) == coa_filter.end();
    });
  }
  if (snapshots.empty()) {
    return Status::NotFound("no snapshot for reference date " + result.ref_date +
                            (coa_filter.empty() ? std::string() : " in the requested countries"));
  }

  // Dimensions read from the counts table: everything broken down except coa.
  std::vector<Dim> read_dims;
  for (Dim d : q.by)
    if (d != Dim::kCoa) read_dims.push_back(d);

  struct Combined {
    std::optional<int64_t> value = 0;
    char status = 'A';
  };
  std::map<std::vector<std::string>, Combined> combined;
  bool any_grant_gap = false;

  for (const SnapshotInfo& snap : snapshots) {
    const Grant* grant = policy->Find(snap.country, who.name, today);
    std::vector<std::string> pop_types;
    std::string gap = CoverageGap(grant, q, pop_types);
    if (!gap.empty()) {
      any_grant_gap = true;
      result.excluded.push_back({snap.country, gap});
      continue;
    }
    auto filters = q.filters;
    filters[DimIndex(Dim::kPopType)] = pop_types;
    GW_ASSIGN_OR_RETURN(auto exact, store_.ReadCounts(snap.id, read_dims, filters));
    ProtectionRequest req{grant, &snap, who.name, read_dims, std::move(exact)};
    auto protected_cells = disclosure_.Protect(req);
    if (!protected_cells.ok()) {
      result.excluded.push_back({snap.country, protected_cells.status().message()});
      continue;
    }
    result.included.push_back(snap.country);
    result.sources.push_back({snap.country, snap.version, snap.digest, MechanismName(grant->mechanism)});
    for (auto& cell : *protected_cells) {
      // Key in the order of q.by, with coa filled from the snapshot.
      std::vector<std::string> key;
      size_t next = 0;
      for (Dim d : q.by) key.push_back(d == Dim::kCoa ? snap.country : cell.values[next++]);
      Combined& c = combined[key];
      if (cell.status == 'Q' || !cell.value || !c.value) {
        c.value.reset();
        c.status = 'Q';
      } else {
        *c.value += *cell.value;
        if (cell.status == 'E' && c.status != 'Q') c.status = 'E';
      }
    }
  }
  if (result.included.empty() && any_grant_gap) {
    std::string why;
    for (const auto& e : result.excluded) why += (why.empty() ? "" : "; ") + e.country + ": " + e.reason;
    return Status::PermissionDenied("no country's grant covers this query (" + why + ")");
  }
  for (auto& [key, c] : combined) {
    result.cells.push_back(ResultCell{key, c.value, c.status});
  }
  return result;
}

std::string AggregateResult::ToJson() const {
  nlohmann::ordered_json j;
  j["ref_date"] = ref_date;
  auto& by_json = j["by"] = nlohmann::ordered_json::array();
  for (Dim d : by) by_json.push_back(std::string(DimName(d)));
  auto& cells_json = j["cells"] = nlohmann::ordered_json::array();
  for (const auto& c : cells) {
    nlohmann::ordered_json cell;
    for (size_t i = 0; i < by.size(); ++i) cell[std::string(DimName(by[i]))] = c.values[i];
    cell["value"] = c.value ? nlohmann::ordered_json(*c.value) : nlohmann::ordered_json(nullptr);
    cell["status"] = std::string(1, c.status);
    cells_json.push_back(std::move(cell));
  }
  auto& countries = j["countries"];
  countries["included"] = included;
  countries["excluded"] = nlohmann::ordered_json::array();
  for (const auto& e : excluded) countries["excluded"].push_back({{"country", e.country}, {"reason", e.reason}});
  auto& src = j["sources"] = nlohmann::ordered_json::array();
  for (const auto& s : sources) {
    src.push_back({{"country", s.country}, {"version", s.version}, {"digest", s.digest},
                   {"mechanism", s.mechanism}});
  }
  return j.dump();
}

std::string AggregateResult::ToCsv() const {
  // Codes never contain commas or quotes, so no field needs quoting.
  std::string out;
  for (Dim d : by) out += std::string(DimName(d)) + ",";
  out += "value,status\r\n";
  for (const auto& c : cells) {
    for (const auto& v : c.values) out += v + ",";
    out += (c.value ? std::to_string(*c.value) : std::string()) + "," + std::string(1, c.status) + "\r\n";
  }
  return out;
}

}  // namespace gw
