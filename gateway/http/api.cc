#include "gateway/http/api.h"

#include <nlohmann/json.hpp>

#include "gateway/schema/codelists.h"

namespace gw::http {

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 400;
    case Code::kUnauthenticated: return 401;
    case Code::kPermissionDenied: return 403;
    case Code::kNotFound: return 404;
    case Code::kConflict: return 409;
    case Code::kTooLarge: return 413;
    case Code::kUnprocessable: return 422;
    case Code::kResourceExhausted: return 429;
    case Code::kUnavailable: return 503;
    case Code::kIoError:
    case Code::kCorruption:
    case Code::kInternal: return 500;
  }
  return 500;
}

Response ErrorFromStatus(const Status& status) {
  int http = HttpStatusFor(status.code());
  // Internal details (paths, SQL messages) stay in the server's log.
  std::string message = http == 500 ? "internal error; the operator can find details in the log"
                                    : status.message();
  Response r = ErrorResponse(http, CodeName(status.code()), message);
  if (http == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"gateway\"");
  return r;
}

Api::Api(Deployment& deployment)
    : deployment_(deployment),
      disclosure_(MakeDisclosureControl()),
      engine_(deployment.store(), deployment.policies(), *disclosure_) {}

void Api::Register(Router& router) {
  router.Add("GET", "/healthz", [this](const Request& r) { return Healthz(r); });
  router.Add("GET", "/v1/aggregates", [this](const Request& r) { return Aggregates(r); });
  router.Add("GET", "/v1/snapshots", [this](const Request& r) { return Snapshots(r); });
  router.Add("GET", "/v1/codelists", [this](const Request& r) { return Codelists(r); });
  router.Add("GET", "/v1/codelists/{name}", [this](const Request& r) { return Codelist(r); });
}

Result<Principal> Api::Authenticate(const Request& request) {
  std::string auth = request.Header("authorization");
  const std::string prefix = "Bearer ";
  if (auth.size() <= prefix.size() || auth.compare(0, prefix.size(), prefix) != 0) {
    return Status::Unauthenticated("a bearer token is required (Authorization: Bearer <token>)");
  }
  GW_ASSIGN_OR_RETURN(std::string key, deployment_.keys().TokenKey());
  std::string hash = HashToken(key, auth.substr(prefix.size()));
  GW_ASSIGN_OR_RETURN(auto consumer, deployment_.store().FindConsumerByTokenHash(hash));
  if (!consumer) return Status::Unauthenticated("the bearer token is not valid");
  return Principal{consumer->name, consumer->role};
}

Response Api::Healthz(const Request&) {
  Response r;
  r.body = R"({"status":"ok"})";
  return r;
}

Response Api::Aggregates(const Request& request) {
  auto who = Authenticate(request);
  if (!who.ok()) return ErrorFromStatus(who.status());
  auto query = ParseAggregateQuery(request.query);
  if (!query.ok()) return ErrorFromStatus(query.status());
  // An explicit format parameter wins over the Accept header.
  bool has_format = false;
  for (const auto& [k, v] : request.query) has_format |= k == "format";
  if (!has_format && request.Header("accept").find("text/csv") != std::string::npos) {
    query->format = "csv";
  }
  auto result = engine_.Aggregate(*query, *who);
  if (!result.ok()) return ErrorFromStatus(result.status());
  Response r;
  if (query->format == "csv") {
    r.content_type = "text/csv; charset=utf-8";
    r.body = result->ToCsv();
  } else {
    r.body = result->ToJson();
  }
  return r;
}

Response Api::Snapshots(const Request& request) {
  auto who = Authenticate(request);
  if (!who.ok()) return ErrorFromStatus(who.status());
  std::string country;
  for (const auto& [k, v] : request.query) {
    if (k == "country") {
      country = v;
    } else {
      return ErrorFromStatus(Status::InvalidArgument("unknown parameter \"" + k + "\" (known: country)"));
    }
  }
  auto list = deployment_.store().ListSnapshots(country);
  if (!list.ok()) return ErrorFromStatus(list.status());
  nlohmann::ordered_json items = nlohmann::ordered_json::array();
  for (const auto& s : *list) {
    nlohmann::ordered_json item;
    item["country"] = s.country;
    item["ref_date"] = s.ref_date;
    item["version"] = s.version;
    item["current"] = s.current;
    item["profile"] = s.profile;
    item["digest"] = s.digest;
    item["created_at"] = s.created_at;
    item["receipt"] = nlohmann::ordered_json::parse(s.receipt_json, nullptr, false);
    items.push_back(std::move(item));
  }
  Response r;
  r.body = nlohmann::ordered_json{{"snapshots", items}}.dump();
  return r;
}

Response Api::Codelists(const Request&) {
  nlohmann::ordered_json j;
  j["codelists"] = nlohmann::ordered_json::array();
  for (const auto& name : CodeLists::Names()) {
    j["codelists"].push_back({{"name", name}, {"href", "/v1/codelists/" + name}});
  }
  Response r;
  r.body = j.dump();
  return r;
}

Response Api::Codelist(const Request& request) {
  const std::string& name = request.path_params.at("name");
  auto table = CodeLists::Table(name);
  if (table.empty()) return ErrorFromStatus(Status::NotFound("no code list named \"" + name + "\""));
  nlohmann::ordered_json items = nlohmann::ordered_json::array();
  for (size_t row = 1; row < table.size(); ++row) {
    nlohmann::ordered_json item;
    for (size_t i = 0; i < table[0].size(); ++i) item[table[0][i]] = table[row][i];
    items.push_back(std::move(item));
  }
  Response r;
  r.body = nlohmann::ordered_json{{"name", name}, {"items", items}}.dump();
  return r;
}

}  // namespace gw::http
