// GET /v1/audit/verify (operators): recomputes the audit log's hash chain on
// the server, as `gateway audit verify` does, and names the first broken entry.
#include <nlohmann/json.hpp>

#include "gateway/crypto/keys.h"
#include "gateway/http/api.h"

namespace gw::http {

Response Api::AuditVerify(const Request& request) {
  auto who = AuthenticateOperator(request);
  if (!who.ok()) return ErrorFromStatus(who.status());
  if (!request.query.empty()) {
    return ErrorFromStatus(Status::InvalidArgument("unknown parameter \"" + request.query.front().first +
                                                   "\" (this route takes none)"));
  }
  auto v = deployment_.store().VerifyAudit();
  if (!v.ok()) return ErrorFromStatus(v.status());
  nlohmann::ordered_json j;
  j["status"] = v->ok ? "verified" : "broken";
  j["entries"] = v->entries;  // entries checked and found intact
  if (v->ok) {
    // The head of the chain: noting it elsewhere lets a later check detect a
    // rewritten history, not only an altered entry.
    j["head"] = nullptr;
    if (v->entries > 0) {
      auto last = deployment_.store().ListAudit(v->entries - 1, 1);
      if (!last.ok()) return ErrorFromStatus(last.status());
      if (!last->empty()) j["head"] = {{"seq", last->front().seq}, {"hash", ToHex(last->front().hash)}};
    }
  } else {
    j["first_broken_seq"] = v->first_broken_seq;
    j["problem"] = v->problem;
  }
  Response r;
  r.body = j.dump();
  return r;
}

}  // namespace gw::http
