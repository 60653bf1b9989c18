// Operations routes: GET /readyz, GET /metrics (operators), GET /v1/openapi.json.
#include <map>
#include <nlohmann/json.hpp>
#include <string_view>

#include "gateway/http/api.h"

namespace gw::embedded {
extern const std::string_view openapi_json;
}  // namespace gw::embedded

namespace gw::http {

Response Api::Readyz(const Request&) {
  // Ready means able to answer queries and take uploads: the database reads,
  // the signing and noise keys load, and a policy is in force.
  nlohmann::ordered_json checks;
  bool ready = true;
  auto check = [&](const char* name, const Status& s) {
    checks[name] = s.ok() ? "ok" : s.message();
    ready &= s.ok();
  };
  auto snapshots = deployment_.store().CurrentSnapshots("0000-00-00");
  check("database", snapshots.ok() ? Status::Ok() : snapshots.status());
  auto signing = deployment_.keys().GatewayKey();
  check("signing_key", signing.ok() ? Status::Ok() : signing.status());
  auto noise = deployment_.keys().NoiseMasterKey();
  check("noise_key", noise.ok() ? Status::Ok() : noise.status());
  checks["grants"] = deployment_.policies().current()->grants().size();
  Response r;
  r.status = ready ? 200 : 503;
  r.body = nlohmann::ordered_json{{"status", ready ? "ready" : "not ready"}, {"checks", checks}}.dump();
  return r;
}

Response Api::MetricsText(const Request& request) {
  // Operators only: budget gauges name consumers and ingest counters tell
  // register sizes, which are not for anonymous readers.
  auto who = AuthenticateOperator(request);
  if (!who.ok()) return ErrorFromStatus(who.status());
  std::vector<Metrics::Gauge> gauges;

  auto snapshots = deployment_.store().ListSnapshots("");
  if (!snapshots.ok()) return ErrorFromStatus(snapshots.status());
  std::map<std::string, std::pair<int64_t, int64_t>> per_country;  // versions, current reference dates
  for (const auto& s : *snapshots) {
    auto& [versions, current] = per_country[s.country];
    ++versions;
    if (s.current) ++current;
  }
  Metrics::Gauge versions{"gateway_snapshot_versions", "Snapshot versions stored, per reporting country.", {}};
  Metrics::Gauge current{"gateway_snapshots_current", "Reference dates with a current snapshot, per country.", {}};
  for (const auto& country : kReportingCountries) {
    auto it = per_country.find(country);
    versions.samples.push_back({{{"country", country}}, it == per_country.end() ? 0.0 : static_cast<double>(it->second.first)});
    current.samples.push_back({{{"country", country}}, it == per_country.end() ? 0.0 : static_cast<double>(it->second.second)});
  }
  gauges.push_back(std::move(versions));
  gauges.push_back(std::move(current));

  auto uses = deployment_.store().ListBudgetUse("");
  if (!uses.ok()) return ErrorFromStatus(uses.status());
  std::map<std::pair<std::string, std::string>, int64_t> spent;
  for (const auto& u : *uses) spent[{u.consumer, u.country}] += u.spent_micro;
  Metrics::Gauge budget{"gateway_budget_spent_epsilon",
                        "Differential-privacy epsilon spent, per consumer and owner country (all reference dates).", {}};
  for (const auto& [key, micro] : spent) {
    budget.samples.push_back({{{"consumer", key.first}, {"country", key.second}}, static_cast<double>(micro) / 1e6});
  }
  gauges.push_back(std::move(budget));

  Metrics::Gauge grants{"gateway_grants", "Grants in force.", {}};
  grants.samples.push_back({{}, static_cast<double>(deployment_.policies().current()->grants().size())});
  gauges.push_back(std::move(grants));

  // Every release waits for its audit entry's commit: what that costs.
  const Store::AuditStats audit = deployment_.store().audit_stats();
  auto total = [&](std::string name, std::string help, double value) {
    gauges.push_back(Metrics::Gauge{std::move(name), std::move(help), {{{}, value}}, true});
  };
  total("gateway_audit_commits_total",
        "Batches of audit entries committed (one write-ahead-log fsync each).",
        static_cast<double>(audit.commits));
  total("gateway_audit_failed_commits_total",
        "Batches of audit entries whose commit failed (their releases were withheld).",
        static_cast<double>(audit.failed_commits));
  total("gateway_audit_entries_total",
        "Audit entries committed by the audit thread (releases and the other entries written on "
        "their own; not those written inside another transaction, such as a snapshot commit's).",
        static_cast<double>(audit.entries));
  total("gateway_audit_commit_seconds_total",
        "Time the audit thread spent writing and committing batches.",
        static_cast<double>(audit.commit_micros) / 1e6);
  total("gateway_audit_wait_seconds_total",
        "Summed over entries: time from an entry's hand-over to the commit of its batch (what a "
        "release waits for its audit).",
        static_cast<double>(audit.wait_micros) / 1e6);

  total("gateway_answer_cache_hits_total",
        "/v1/aggregates answers taken from the answer cache: a repeat within a second, with the "
        "data, policy and day unchanged (still signed and audited before it is sent).",
        static_cast<double>(answers_from_cache_.load(std::memory_order_relaxed)));
  total("gateway_answer_cache_misses_total",
        "/v1/aggregates answers computed from the store: first releases, answers too large to "
        "keep, and repeats after a change or after a second (refusals are not counted).",
        static_cast<double>(answers_computed_.load(std::memory_order_relaxed)));

  Response r;
  r.content_type = std::string(kMetricsContentType);
  r.body = metrics_.Render(gauges);
  return r;
}

Response Api::OpenApi(const Request&) {
  Response r;
  r.body = std::string(embedded::openapi_json);
  return r;
}

}  // namespace gw::http
