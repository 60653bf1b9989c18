// The gateway's HTTP API on top of the generic router: authentication by
// bearer token, the routes of PRODUCT.md, and the single mapping from Status
// codes to HTTP status codes. Handlers are thin: they parse, call the engine,
// and format.
//
// Threads: a handler that may wait for the database runs on the Api's blocking
// pool and answers through a deferred Response, so the server's I/O threads
// never wait for the disk. A repeated aggregate query (same consumer, query,
// policy, day and stored state) is answered on the I/O thread from a cache of
// rendered answers, and only its audit entry is written.
//
// Thread-safety: handlers run concurrently on server and pool threads;
// everything they touch (Store, PolicyStore, KeyRing, QueryEngine) is
// thread-safe.
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <map>
#include <memory>

#include "gateway/deployment.h"
#include "gateway/http/content_coding.h"
#include "gateway/http/metrics.h"
#include "gateway/http/router.h"
#include "gateway/http/streaming.h"
#include "gateway/privacy/disclosure.h"
#include "gateway/query/formats.h"
#include "gateway/query/query_engine.h"
#include "gateway/storage/change_stamp.h"

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
  ~Api();  // waits for the handlers running on the blocking pool
  void Register(Router& router);
  // Request counts and latencies are observed by the server's on_complete hook.
  Metrics& metrics() { return metrics_; }

 private:
  // Where a handler runs: kInline on the I/O thread (it never waits for the
  // disk), kPool on the blocking pool.
  enum class Runs { kInline, kPool };
  // Registers a handler whose response carries the authenticated role.
  void Add(Router& router, const std::string& method, const std::string& pattern, Handler handler,
           Runs runs = Runs::kPool);
  // A deferred Response that runs `work` on the blocking pool.
  Response OnPool(std::function<Response()> work);
  // Runs `work` on the blocking pool and hands its result to `done` there; an
  // exception out of `work` becomes a 500 (a pool thread must not throw). For
  // a Response (OnPool) or a head's decision (UploadHead).
  template <typename T>
  void PostToPool(std::function<T()> work, std::function<void(T)> done);
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
  // What the audit entry of a release records besides the query and digest.
  struct ReleaseRecord {
    std::vector<std::string> countries;
    std::map<std::string, int64_t> epsilon_micro;  // debited now, by country
    static ReleaseRecord Of(const std::vector<const AggregateResult*>& results);
  };
  // Signs the body and audits the release (query text, countries, epsilon
  // spent, digest of the bytes sent; when gzipped, the coding and the digest
  // of the table itself): a deferred Response that completes once the audit
  // entry is durable, withheld (503) if it fails. The body goes out gzipped
  // when `accepts_gzip` and it has a gzip coding. `format_from_accept`: the
  // request's Accept header chose the format, so Vary names it too.
  Response Release(const Principal& who, const std::string& query_text, const ReleaseRecord& record,
                   std::string content_type, const CodedBody& body, bool accepts_gzip,
                   bool format_from_accept);
  Response Release(const Principal& who, const std::string& query_text,
                   const std::vector<const AggregateResult*>& results, std::string json_body,
                   bool accepts_gzip) {
    return Release(who, query_text, ReleaseRecord::Of(results), "application/json",
                   CodedBody::Of(std::move(json_body), {}, accepts_gzip), accepts_gzip,
                   /*format_from_accept=*/false);
  }
  Response Codelists(const Request& request);
  Response Codelist(const Request& request);
  // PUT /v1/snapshots/{country}/{ref_date}: checks the RFC 9421 signature from
  // the head, then streams the body into an ingest.
  HeadDecision UploadHead(const Request& head);

  Deployment& deployment_;
  Metrics metrics_;
  std::unique_ptr<DisclosureControl> disclosure_;
  QueryEngine engine_;

  // A rendered answer that cost no budget, for its repeats. Holding the policy
  // it was computed under keeps that policy's address from being reused, so
  // comparing it with the current one is exact.
  // Its gzip coding is made once, with the entry, for the clients that ask.
  struct CachedAnswer {
    std::shared_ptr<const Policy> policy;
    std::string content_type;
    CodedBody body;
    ReleaseRecord record;
  };
  StampedCache<CachedAnswer> answers_;
  // For /metrics: /v1/aggregates answers taken from answers_, and those
  // computed from the store without error (whether kept afterwards or not).
  std::atomic<uint64_t> answers_from_cache_{0}, answers_computed_{0};
  boost::asio::thread_pool blocking_;  // last: joined first, while the rest is alive
};

}  // namespace gw::http
