#include "gateway/query/query_engine.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "gateway/common/text.h"
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

// One country's part of an answer.
struct Part {
  const SnapshotInfo* snapshot;
  const Grant* grant;
  std::shared_ptr<const ProtectedTable> table;
};

// The cells of the parts not refused, combined by the rule in the header, in
// key order (the order of q.by, coa filled from each part's snapshot).
CellList CombineParts(const AggregateQuery& q, const std::vector<Part>& parts, const std::vector<bool>& refused,
                      bool coa_margin) {
  struct Combined {
    std::optional<int64_t> value = 0;
    char status = 'A';
  };
  std::map<std::vector<std::string>, Combined> combined;
  auto add = [&](std::vector<std::string> key, const ProtectedCell& cell) {
    Combined& c = combined[std::move(key)];
    if (cell.status == 'Q' || !cell.value || !c.value) {
      c.value.reset();
      c.status = 'Q';
    } else {
      *c.value += *cell.value;
      if (cell.status == 'E') c.status = 'E';
    }
  };
  for (size_t i = 0; i < parts.size(); ++i) {
    if (refused[i]) continue;
    const Part& p = parts[i];
    for (const auto& cell : p.table->cells) {
      std::vector<std::string> key;
      key.reserve(q.by.size());
      size_t next = 0;
      for (Dim d : q.by) key.push_back(d == Dim::kCoa ? p.snapshot->country : cell.values[next++]);
      if (coa_margin) {
        std::vector<std::string> total_key = key;
        for (size_t j = 0; j < q.by.size(); ++j)
          if (q.by[j] == Dim::kCoa) total_key[j] = kTotalCode;
        add(std::move(total_key), cell);
      }
      add(std::move(key), cell);
    }
  }
  std::vector<ResultCell> cells;
  cells.reserve(combined.size());
  for (auto& [key, c] : combined) cells.push_back(ResultCell{key, c.value, c.status});
  return CellList(std::move(cells));
}

}  // namespace

Result<AggregateResult> QueryEngine::Aggregate(const AggregateQuery& q, const Principal& who) {
  AggregateResult result;
  result.ref_date = q.ref_date.ToIso();
  result.by = q.by;
  result.totals = q.totals;
  std::shared_ptr<const Policy> policy = policies_.current();
  const Date today = TodayUtc();

  GW_ASSIGN_OR_RETURN(auto snapshots, store_.CurrentSnapshots(result.ref_date));
  const auto& coa_filter = q.filters[DimIndex(Dim::kCoa)];
  const bool explicit_countries = !coa_filter.empty() && q.coa_named;
  if (!coa_filter.empty()) {
    std::erase_if(snapshots, [&](const SnapshotInfo& s) {
      return std::find(coa_filter.begin(), coa_filter.end(), s.country) == coa_filter.end();
    });
  }
  if (snapshots.empty()) {
    return Status::NotFound("no snapshot for reference date " + result.ref_date +
                            (coa_filter.empty() ? std::string() : " in the requested countries"));
  }

  // Dimensions each country's part is broken down by: everything but coa.
  std::vector<Dim> part_dims;
  for (Dim d : q.by)
    if (d != Dim::kCoa) part_dims.push_back(d);

  std::vector<Part> parts;
  bool any_grant_gap = false;
  for (const SnapshotInfo& snap : snapshots) {
    const Grant* grant = policy->Find(snap.country, who.name, today);
    std::vector<std::string> pop_types;
    std::string gap = CoverageGap(grant, q, pop_types);
    if (!gap.empty()) {
      if (explicit_countries) {
        return Status::PermissionDenied(snap.country + " was requested but " + gap);
      }
      any_grant_gap = true;
      result.excluded.push_back({snap.country, gap});
      continue;
    }
    ProtectionRequest req;
    req.grant = grant;
    req.snapshot = &snap;
    req.by = part_dims;
    req.filters = q.filters;
    req.filters[DimIndex(Dim::kCoa)].clear();
    req.filters[DimIndex(Dim::kPopType)] = pop_types;
    req.totals = q.totals;
    req.margins = q.margins;
    const int64_t snapshot_id = snap.id;
    req.read = [this, snapshot_id](const std::vector<Dim>& dims, const DimFilters& filters) {
      return store_.ReadCounts(snapshot_id, dims, filters);
    };
    auto table = disclosure_.Protect(req);
    if (!table.ok()) {
      if (table.status().code() == Code::kInvalidArgument || explicit_countries) return table.status();
      result.excluded.push_back({snap.country, table.status().message()});
      continue;
    }
    parts.push_back({&snap, grant, std::move(table).value()});
  }

  // The budget: debited, durably, before any number is returned.
  std::vector<BudgetCharge> charges;
  std::vector<size_t> charged_parts;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Part& p = parts[i];
    if (p.grant->mechanism != Mechanism::kDp) continue;
    charges.push_back(BudgetCharge{p.snapshot->country, p.snapshot->ref_date, p.snapshot->version,
                                   p.table->tables, p.grant->epsilon_micro, p.grant->budget_micro,
                                   options_.snapshot_epsilon_cap_micro});
    charged_parts.push_back(i);
  }
  std::vector<bool> refused(parts.size(), false);
  std::string refusals;
  if (!charges.empty()) {
    GW_ASSIGN_OR_RETURN(auto outcomes, store_.ChargeBudget(who.name, charges, explicit_countries));
    for (size_t k = 0; k < outcomes.size(); ++k) {
      const ChargeOutcome& o = outcomes[k];
      const BudgetCharge& ch = charges[k];
      const size_t i = charged_parts[k];
      if (o.granted) {
        result.budget.push_back({ch.country, o.cost_micro, o.spent_before_micro + o.cost_micro,
                                 ch.budget_micro, ch.epsilon_micro});
        continue;
      }
      if (o.cost_micro == 0 || (o.spent_before_micro + o.cost_micro <= ch.budget_micro &&
                                !o.global_cap_reached)) {
        continue;  // refused only because another named country was (all or nothing)
      }
      refused[i] = true;
      std::string why =
          o.global_cap_reached
              ? "the gateway's cap on epsilon for " + ch.country + " at " + ch.ref_date +
                    " (all consumers together) is reached: " + FormatMicro(o.global_spent_micro) +
                    " of " + FormatMicro(ch.global_cap_micro) + " spent"
              : "the privacy budget for " + ch.country + " at " + ch.ref_date + " is exhausted: " +
                    FormatMicro(o.spent_before_micro) + " of " + FormatMicro(ch.budget_micro) +
                    " spent, " + FormatMicro(o.remaining_micro) + " remains";
      why += "; this answer has " + std::to_string(o.new_tables) + " new table" +
             (o.new_tables == 1 ? "" : "s") + " at " + FormatMicro(ch.epsilon_micro) +
             " each (" + FormatMicro(o.cost_micro) +
             "); tables already released from this snapshot version stay free";
      refusals += (refusals.empty() ? "" : "; ") + why;
      result.excluded.push_back({ch.country, why});
    }
    if (explicit_countries && !refusals.empty()) return Status::ResourceExhausted(refusals);
  }

  // The combination depends only on the parts' protected tables, the order of
  // `by` and the coa margin: reuse it when those are the same.
  const bool coa_margin = q.totals && q.BreaksDown(Dim::kCoa);
  std::string combination_key = coa_margin ? "T|" : "-|";
  for (Dim d : q.by) combination_key += std::string(DimName(d)) + ",";
  auto combination = std::make_shared<Combination>();
  for (size_t i = 0; i < parts.size(); ++i) {
    if (refused[i]) continue;
    const Part& p = parts[i];
    result.included.push_back(p.snapshot->country);
    result.sources.push_back({p.snapshot->country, p.snapshot->version, p.snapshot->digest,
                              MechanismName(p.grant->mechanism)});
    char address[32];
    std::snprintf(address, sizeof address, "%p", static_cast<const void*>(p.table.get()));
    combination_key += "|" + p.snapshot->country + ":" + address;
    combination->tables.push_back(p.table);
  }
  if (auto hit = combinations_.Get(combination_key)) {
    result.cells = hit->cells;
  } else {
    result.cells = CombineParts(q, parts, refused, coa_margin);
    combination->cells = result.cells;
    combinations_.Put(combination_key, std::move(combination), result.cells.size() + 1);
  }
  if (result.included.empty()) {
    std::string why;
    for (const auto& e : result.excluded) why += (why.empty() ? "" : "; ") + e.country + ": " + e.reason;
    if (!refusals.empty()) return Status::ResourceExhausted(refusals);
    if (any_grant_gap) return Status::PermissionDenied("no country's grant covers this query (" + why + ")");
    if (!result.excluded.empty()) return Status::Unavailable("no country could answer (" + why + ")");
  }
  return result;
}

std::string FormatMicro(int64_t micro) {
  std::string sign = micro < 0 ? "-" : "";
  uint64_t m = micro < 0 ? static_cast<uint64_t>(-(micro + 1)) + 1 : static_cast<uint64_t>(micro);
  std::string out = sign + std::to_string(m / 1000000);
  uint64_t frac = m % 1000000;
  if (frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, 6 - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    out += "." + digits;
  }
  return out;
}

std::shared_ptr<const CellList::Json> CellList::RenderJson(const std::string& head,
                                                          const std::vector<Dim>& by) const {
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    if (shared_->json && shared_->json->head == head) return shared_->json;
  }
  // Written directly: the cells are most of the answer, and building a JSON
  // tree for them first would allocate per field.
  auto json = std::make_shared<Json>();
  json->head = head;
  std::string& out = json->text;
  out.reserve(head.size() + 16 + shared_->cells.size() * (24 + 16 * by.size()));
  out = head;
  out += ",\"cells\":[";
  for (size_t i = 0; i < shared_->cells.size(); ++i) {
    const auto& c = shared_->cells[i];
    out += i == 0 ? "{" : ",{";
    for (size_t k = 0; k < by.size(); ++k) {
      AppendJsonString(out, DimName(by[k]));
      out.push_back(':');
      AppendJsonString(out, c.values[k]);
      out.push_back(',');
    }
    out += "\"value\":";
    out += c.value ? std::to_string(*c.value) : std::string("null");
    out += ",\"status\":\"";
    out.push_back(c.status);
    out += "\"}";
  }
  out += "]";
  json->state.Update(out);
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->json = json;
  return json;
}

AggregateResult::RenderedJson AggregateResult::RenderJson() const {
  // Written by hand, like the cells: this runs for every answer.
  std::string head = "{\"ref_date\":";
  AppendJsonString(head, ref_date);
  head += ",\"by\":[";
  for (size_t i = 0; i < by.size(); ++i) {
    if (i > 0) head.push_back(',');
    AppendJsonString(head, DimName(by[i]));
  }
  head.push_back(']');
  std::shared_ptr<const CellList::Json> prefix = cells.RenderJson(head, by);

  // What follows the cells differs between consumers and between repeats (the
  // budget spent so far), so it is rendered each time.
  std::string tail = ",\"countries\":{\"included\":[";
  for (size_t i = 0; i < included.size(); ++i) {
    if (i > 0) tail.push_back(',');
    AppendJsonString(tail, included[i]);
  }
  tail += "],\"excluded\":[";
  for (size_t i = 0; i < excluded.size(); ++i) {
    tail += i > 0 ? ",{\"country\":" : "{\"country\":";
    AppendJsonString(tail, excluded[i].country);
    tail += ",\"reason\":";
    AppendJsonString(tail, excluded[i].reason);
    tail.push_back('}');
  }
  tail += "]}";
  if (totals) tail += ",\"totals\":true";
  tail += ",\"sources\":[";
  for (size_t i = 0; i < sources.size(); ++i) {
    const SourceInfo& src = sources[i];
    tail += i > 0 ? ",{\"country\":" : "{\"country\":";
    AppendJsonString(tail, src.country);
    tail += ",\"version\":" + std::to_string(src.version) + ",\"digest\":";
    AppendJsonString(tail, src.digest);
    tail += ",\"mechanism\":";
    AppendJsonString(tail, src.mechanism);
    tail.push_back('}');
  }
  tail.push_back(']');
  if (!budget.empty()) {
    // Decimal epsilon as JSON numbers for reading; the ledger itself is integer micro-epsilon.
    tail += ",\"budget\":[";
    for (size_t i = 0; i < budget.size(); ++i) {
      const BudgetNote& n = budget[i];
      tail += i > 0 ? ",{\"country\":" : "{\"country\":";
      AppendJsonString(tail, n.country);
      tail += ",\"cost\":" + FormatMicro(n.cost_micro) + ",\"spent\":" + FormatMicro(n.spent_micro) +
              ",\"remaining\":" + FormatMicro(n.budget_micro - n.spent_micro) +
              ",\"epsilon_per_new_table\":" + FormatMicro(n.epsilon_micro) + "}";
    }
    tail.push_back(']');
  }
  tail.push_back('}');
  RenderedJson rendered;
  rendered.body.reserve(prefix->text.size() + tail.size());
  rendered.body = prefix->text;
  rendered.body += tail;
  Sha256 digest = prefix->state;
  digest.Update(tail);
  rendered.sha256 = digest.Final();
  return rendered;
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
