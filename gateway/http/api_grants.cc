// GET /v1/grants (operators): the grants in force, as the console's operator
// view and `gateway policy check` show them.
#include <nlohmann/json.hpp>

#include "gateway/http/api.h"

namespace gw::http {
namespace {

// Decimal epsilon from exact micro-epsilon ("0.5"), as a JSON number.
nlohmann::ordered_json Decimal(int64_t micro) { return nlohmann::ordered_json::parse(FormatMicro(micro)); }

nlohmann::ordered_json PositiveOrNull(int64_t v) { return v > 0 ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr); }

}  // namespace

Response Api::Grants(const Request& request) {
  auto who = AuthenticateOperator(request);
  if (!who.ok()) return ErrorFromStatus(who.status());
  std::string country, consumer;
  for (const auto& [k, v] : request.query) {
    if (k == "country") {
      country = v;
    } else if (k == "consumer") {
      consumer = v;
    } else {
      return ErrorFromStatus(Status::InvalidArgument("unknown parameter \"" + k + "\" (known: country, consumer)"));
    }
  }
  std::shared_ptr<const Policy> policy = deployment_.policies().current();
  const Date today = TodayUtc();
  nlohmann::ordered_json items = nlohmann::ordered_json::array();
  for (const auto& g : policy->grants()) {
    if ((!country.empty() && g.country != country) || (!consumer.empty() && g.consumer != consumer)) continue;
    // Effective: the grant the engine applies today (not expired).
    if (policy->Find(g.country, g.consumer, today) != &g) continue;
    nlohmann::ordered_json item;
    item["country"] = g.country;
    item["consumer"] = g.consumer;
    item["pop_types"] = g.pop_types;
    nlohmann::ordered_json dims = nlohmann::ordered_json::array();
    for (Dim d : g.dimensions) dims.push_back(std::string(DimName(d)));
    item["dimensions"] = std::move(dims);
    item["mechanism"] = MechanismName(g.mechanism);
    const bool dp = g.mechanism == Mechanism::kDp;
    item["epsilon"] = dp ? Decimal(g.epsilon_micro) : nlohmann::ordered_json(nullptr);
    item["budget"] = dp ? Decimal(g.budget_micro) : nlohmann::ordered_json(nullptr);
    item["new_tables_per_ref_date"] =
        dp && g.epsilon_micro > 0 ? nlohmann::ordered_json(g.budget_micro / g.epsilon_micro) : nlohmann::ordered_json(nullptr);
    item["threshold"] = PositiveOrNull(g.threshold);
    item["rounding"] = PositiveOrNull(g.rounding);
    item["expires"] = g.expires ? nlohmann::ordered_json(g.expires->ToIso()) : nlohmann::ordered_json(nullptr);
    item["source"] = g.file + " #" + std::to_string(g.index);
    items.push_back(std::move(item));
  }
  Response r;
  r.body = nlohmann::ordered_json{{"grants", std::move(items)}}.dump();
  return r;
}

}  // namespace gw::http
