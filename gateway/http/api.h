// The gateway's HTTP API on top of the generic router: authentication by
// bearer token, the routes of PRODUCT.md, and the single mapping from Status
// codes to HTTP status codes. Handlers are thin: they parse, call the engine,
// and format.
//
// Thread-safety: handlers run concurrently on server threads; everything they
// touch (Store, PolicyStore, KeyRing, QueryEngine) is thread-safe.
#pragma once

#include <memory>

#include "gateway/deployment.h"
#include "gateway/http/metrics.h"
#include "gateway/http/router.h"
#include "gateway/http/streaming.h"
#include "gateway/privacy/disclosure.h"
#include "gateway/query/query_engine.h"

namespace gw::http {

// HTTP status for a Status code (the one place this mapping is made).
int HttpStatusFor(Code code);

// How far a signature's `created` may be from the server's clock.
inline constexpr int64_t kSignatureWindowSeconds = 300;
Response ErrorFromStatus(const Status& status);

// The canonical text of a query (dimensions in lattice order, codes sorted),
// as recorded in the audit log.
std::string CanonicalQuery(const AggregateQuery& query);

// Reloads the policies and records the load (or its failure) in the audit log.
// On failure the previous policies stay in force.
Status ReloadPolicies(Deployment& deployment, const std::string& actor);

class Api {
 public:
  explicit Api(Deployment& deployment);
  void Register(Router& router);
  // Request counts and latencies are observed by the server's on_complete hook.
  Metrics& metrics() { return metrics_; }

 private:
  // Registers a handler whose response carries the authenticated role.
  static void Add(Router& router, const std::string& method, const std::string& pattern, Handler handler);
  static std::string& ServedRole();
  Result<Principal> Authenticate(const Request& request);
  Result<Principal> AuthenticateOperator(const Request& request);
  Response Audit(const Request& request);
  Response AuditVerify(const Request& request);  // api_audit_verify.cc
  Response Grants(const Request& request);       // api_grants.cc
  Response Keys(const Request& request);
  Response Reload(const Request& request);
  Response Healthz(const Request& request);
  Response Readyz(const Request& request);
  Response MetricsText(const Request& request);
  Response OpenApi(const Request& request);
  Response Aggregates(const Request& request);
  Response Snapshots(const Request& request);
  Response Budget(const Request& request);
  Response UnhcrPopulation(const Request& request);
  Response UnhcrDemographics(const Request& request);
  // Signs the response and audits the release of `results` (query text,
  // countries, epsilon spent, digest of the body): a deferred Response that
  // completes once the audit entry is durable, withheld (503) if it fails.
  Response Release(const Principal& who, const std::string& query_text,
                   const std::vector<const AggregateResult*>& results, Response r,
                   std::string body_sha256 = {});
  Response Codelists(const Request& request);
  Response Codelist(const Request& request);
  // PUT /v1/snapshots/{country}/{ref_date}: checks the RFC 9421 signature from
  // the head, then streams the body into an ingest.
  HeadDecision UploadHead(const Request& head);

  Deployment& deployment_;
  Metrics metrics_;
  std::unique_ptr<DisclosureControl> disclosure_;
  QueryEngine engine_;
};

}  // namespace gw::http
