// GET /v1/budget: the differential-privacy budget per consumer, country and
// reference date: what each dp grant allows, what was spent, what remains.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "gateway/http/api.h"

namespace gw::http {
namespace {

nlohmann::ordered_json Epsilon(int64_t micro) {
  return nlohmann::ordered_json::parse(FormatMicro(micro));
}

}  // namespace

Response Api::Budget(const Request& request) {
  auto who = Authenticate(request);
  if (!who.ok()) return ErrorFromStatus(who.status());
  std::string consumer = who->role == "operator" ? "" : who->name;
  std::string country, ref_date;
  for (const auto& [k, v] : request.query) {
    if (k == "consumer") {
      if (who->role != "operator" && v != who->name) {
        return ErrorFromStatus(Status::PermissionDenied("only operators may see another consumer's budget"));
      }
      consumer = v;
    } else if (k == "country") {
      country = v;
    } else if (k == "ref_date") {
      ref_date = v;
    } else {
      return ErrorFromStatus(Status::InvalidArgument("unknown parameter \"" + k +
                                                     "\" (known: consumer, country, ref_date)"));
    }
  }
  auto uses = deployment_.store().ListBudgetUse(consumer);
  if (!uses.ok()) return ErrorFromStatus(uses.status());
  auto snapshots = deployment_.store().ListSnapshots(country);
  if (!snapshots.ok()) return ErrorFromStatus(snapshots.status());
  std::shared_ptr<const Policy> policy = deployment_.policies().current();
  const Date today = TodayUtc();

  // Every (consumer, country, reference date) that a dp grant covers today or
  // that has spent anything.
  using Key = std::tuple<std::string, std::string, std::string>;
  std::map<Key, const BudgetUse*> rows;
  for (const auto& u : *uses) rows[{u.consumer, u.country, u.ref_date}] = &u;
  std::set<std::pair<std::string, std::string>> dates;  // (country, ref_date) with a current snapshot
  for (const auto& s : *snapshots)
    if (s.current) dates.insert({s.country, s.ref_date});
  for (const auto& g : policy->grants()) {
    if (g.mechanism != Mechanism::kDp || (!consumer.empty() && g.consumer != consumer)) continue;
    if (policy->Find(g.country, g.consumer, today) != &g) continue;
    for (const auto& [c, d] : dates) {
      if (c == g.country) rows.try_emplace({g.consumer, c, d}, nullptr);
    }
  }

  nlohmann::ordered_json items = nlohmann::ordered_json::array();
  for (const auto& [key, use] : rows) {
    const auto& [name, c, d] = key;
    if ((!country.empty() && c != country) || (!ref_date.empty() && d != ref_date)) continue;
    const Grant* g = policy->Find(c, name, today);
    int64_t spent = use ? use->spent_micro : 0;
    nlohmann::ordered_json item;
    item["consumer"] = name;
    item["country"] = c;
    item["ref_date"] = d;
    item["spent"] = Epsilon(spent);
    item["tables_released"] = use ? use->tables : 0;
    if (g != nullptr && g->mechanism == Mechanism::kDp) {
      item["budget"] = Epsilon(g->budget_micro);
      item["remaining"] = Epsilon(std::max<int64_t>(0, g->budget_micro - spent));
      item["epsilon_per_new_table"] = Epsilon(g->epsilon_micro);
      item["new_tables_affordable"] = std::max<int64_t>(0, g->budget_micro - spent) / g->epsilon_micro;
    } else {
      item["budget"] = nullptr;  // no dp grant in force: nothing more can be spent
      item["remaining"] = Epsilon(0);
    }
    items.push_back(std::move(item));
  }
  nlohmann::ordered_json j;
  j["budgets"] = std::move(items);
  const int64_t cap = deployment_.config().snapshot_epsilon_cap_micro;
  j["snapshot_epsilon_cap"] = cap > 0 ? Epsilon(cap) : nlohmann::ordered_json(nullptr);
  Response r;
  r.body = j.dump();
  return r;
}

}  // namespace gw::http
