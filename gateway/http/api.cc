#include "gateway/http/api.h"

#include <atomic>

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "gateway/common/date.h"
#include "gateway/common/lru_cache.h"
#include "gateway/common/text.h"
#include "gateway/crypto/digest.h"
#include "gateway/crypto/keys.h"
#include "gateway/http/console.h"
#include "gateway/http/content_coding.h"
#include "gateway/http/message_signatures.h"
#include "gateway/ingest/upload.h"
#include "gateway/query/formats.h"
#include "gateway/schema/adapter_registry.h"
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

namespace {

// Percent-encodes everything but RFC 3986's unreserved characters, so that the
// canonical text reads back as the same query ("60+" is "60%2B").
std::string QueryEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

}  // namespace

std::string CanonicalQuery(const AggregateQuery& q) {
  // Dimensions in lattice order, codes sorted: the same table however it was asked.
  std::string by, filters;
  for (Dim d : kAllDims) {
    if (q.BreaksDown(d)) by += (by.empty() ? "" : ",") + std::string(DimName(d));
    auto codes = q.filters[DimIndex(d)];
    if (codes.empty()) continue;
    std::sort(codes.begin(), codes.end());
    std::string list;
    for (const auto& c : codes) list += (list.empty() ? "" : ",") + QueryEncode(c);
    filters += "&" + std::string(DimName(d)) + "=" + list;
  }
  return "ref_date=" + q.ref_date.ToIso() + "&by=" + by + filters +
         (q.totals ? "&totals=true" : "") + "&format=" + q.format;
}

Status ReloadPolicies(Deployment& deployment, const std::string& actor) {
  Status s = deployment.policies().Reload();
  nlohmann::json detail = {{"ok", s.ok()}};
  if (s.ok()) {
    detail["grants"] = deployment.policies().current()->grants().size();
  } else {
    detail["error"] = s.message();
  }
  Status audited = deployment.store().AppendAudit(s.ok() ? "policy.load" : "policy.load_failed", actor, detail.dump());
  return s.ok() ? audited : s;
}

Response ErrorFromStatus(const Status& status) {
  int http = HttpStatusFor(status.code());
  if (http >= 500) {
    // Internal details (paths, SQL messages) stay in the server's log: one JSON
    // line on stderr beside the request log. Status messages never carry an
    // identifying value, so this line cannot leak one either.
    nlohmann::json line = {{"ts", UtcNowIso()},
                           {"event", "error"},
                           {"code", CodeName(status.code())},
                           {"message", status.message()}};
    std::fprintf(stderr, "%s\n", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  }
  std::string message = http == 500 ? "internal error; the operator can find details in the log"
                                    : status.message();
  Response r = ErrorResponse(http, CodeName(status.code()), message);
  if (http == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"gateway\"");
  return r;
}

namespace {

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Adds Content-Digest and an RFC 9421 response signature (@status,
// content-digest, content-type, and content-encoding when the body is coded)
// made with the gateway's own key.
// `digest`: the body's Content-Digest field when the caller has it already;
// `coding`: the body's Content-Encoding (empty: none), set here and signed.
Response SignResponse(KeyRing& keys, Response r, std::string digest = {},
                      const std::string& coding = {}) {
  auto key = keys.GatewayKey();
  if (!key.ok()) return ErrorFromStatus(Status::Internal("the gateway's signing key is not usable"));
  if (digest.empty()) digest = ContentDigestSha256(r.body);
  if (!coding.empty()) r.headers.emplace_back("Content-Encoding", coding);
  SignatureContext ctx;
  ctx.status = r.status;
  ctx.header = [&](std::string_view name) -> std::optional<std::string> {
    if (name == "content-digest") return digest;
    if (name == "content-type") return r.content_type;
    if (name == "content-encoding" && !coding.empty()) return coding;
    return std::nullopt;
  };
  SignOptions o;
  o.components = {"@status", "content-digest", "content-type"};
  if (!coding.empty()) o.components.push_back("content-encoding");
  o.created = UnixNow();
  // Ed25519 is deterministic and `created` has a resolution of one second:
  // the same body answered again within that second has the same signature,
  // so a repeat takes it from here instead of signing again.
  static LruCache<SignatureHeaders> recent(1024);
  const std::string memo_key = (*key)->keyid() + "\n" + std::to_string(r.status) + "\n" + digest +
                               "\n" + r.content_type + "\n" + coding + "\n" +
                               std::to_string(o.created);
  std::shared_ptr<const SignatureHeaders> sig = recent.Get(memo_key);
  if (sig == nullptr) {
    auto made = Sign(o, ctx, **key);
    if (!made.ok()) return ErrorFromStatus(Status::Internal("signing the response failed"));
    sig = std::make_shared<const SignatureHeaders>(std::move(made).value());
    recent.Put(memo_key, sig, 1);
  }
  r.headers.emplace_back("Content-Digest", digest);
  r.headers.emplace_back("Signature-Input", sig->signature_input);
  r.headers.emplace_back("Signature", sig->signature);
  return r;
}

Response ReceiptResponse(const Result<Receipt>& r) {
  if (!r.ok()) return ErrorFromStatus(r.status());
  Response resp;
  resp.body = r->ToJson();
  resp.status = r->committed() ? (r->new_version ? 201 : 200) : 422;
  return resp;
}

// Bridges the server's streaming body to an UploadIngest, and holds the
// ingest's answer until the server has delivered the whole body.
class UploadConsumer : public BodyConsumer {
 public:
  UploadConsumer(Store& store, KeyRing& keys, Metrics& metrics, IngestRequest req, ExpectedDigest digest) {
    const std::string country = req.country;
    ingest_ = std::make_unique<UploadIngest>(
        store, keys, std::move(req), std::move(digest),
        [this, &keys, &metrics, country](Result<Receipt> r) {
          if (r.ok()) metrics.AddIngest(country, r->status, r->rows, bytes_.load());
          Deliver(SignResponse(keys, ReceiptResponse(r)));
        });
  }
  ~UploadConsumer() override { ingest_.reset(); }

  void Consume(std::string_view chunk, std::function<void()> ready) override {
    bytes_ += static_cast<int64_t>(chunk.size());
    ingest_->Push(chunk, std::move(ready));
  }

  void Finish(Status status, std::function<void(Response)> done) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = std::move(done);
    }
    ingest_->Close(status);
    TryDeliver();
  }

 private:
  void Deliver(Response r) {
    r.role = "ministry";
    {
      std::lock_guard<std::mutex> lock(mu_);
      response_ = std::move(r);
    }
    TryDeliver();
  }
  void TryDeliver() {
    std::function<void(Response)> done;
    Response r;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!done_ || !response_) return;
      done = std::move(done_);
      done_ = nullptr;
      r = std::move(*response_);
    }
    done(std::move(r));
  }

  std::mutex mu_;
  std::function<void(Response)> done_;  // guarded by mu_
  std::optional<Response> response_;    // guarded by mu_
  std::unique_ptr<UploadIngest> ingest_;
  std::atomic<int64_t> bytes_{0};
};

}  // namespace

namespace {

// Without a readable noise key the server still runs; dp grants then answer
// "unavailable" and their data are withheld, never released without noise.
DisclosureSettings SettingsOrDpUnavailable(Deployment& deployment) {
  auto settings = deployment.disclosure_settings();
  if (settings.ok()) return *settings;
  DisclosureSettings fallback;
  fallback.dp_max_cells = deployment.config().dp_max_cells;
  return fallback;
}

}  // namespace

namespace {
constexpr size_t kMaxCachedAnswerBytes = size_t{256} << 10;

int BlockingThreads(const DeploymentConfig& config) {
  if (config.blocking_threads > 0) return config.blocking_threads;
  // Their handlers wait on SQLite (reads, the write lock), so more threads
  // than cores keep requests flowing while some wait.
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::clamp(8 * cores, 8, 64);
}
}  // namespace

Api::Api(Deployment& deployment)
    : deployment_(deployment),
      disclosure_(MakeDisclosureControl(SettingsOrDpUnavailable(deployment))),
      engine_(deployment.store(), deployment.policies(), *disclosure_,
              QueryOptions{deployment.config().snapshot_epsilon_cap_micro}),
      // At most 256 answers of at most kMaxCachedAnswerBytes each (64 MiB, and
      // their gzip codings, kept only when smaller: about a fifteenth for a
      // large table); an answer is recomputed at least every second whatever
      // the stamp says.
      answers_(256, std::chrono::seconds(1)),
      blocking_(static_cast<size_t>(BlockingThreads(deployment.config()))) {}

Api::~Api() { blocking_.join(); }

namespace {

// The role of the caller a handler authenticated, for the request log. Handlers
// run synchronously on the thread that dispatches them, so a thread-local
// carries it from Authenticate() to the wrapper below.
std::string& ServedRoleSlot() {
  thread_local std::string role;
  return role;
}

}  // namespace

std::string& Api::ServedRole() { return ServedRoleSlot(); }

void Api::Add(Router& router, const std::string& method, const std::string& pattern, Handler handler,
              Runs runs) {
  auto with_role = [handler = std::move(handler)](const Request& r) {
    ServedRoleSlot().clear();
    Response response = handler(r);
    response.role = ServedRoleSlot();
    if (response.deferred) {
      response.deferred = [inner = std::move(response.deferred),
                           role = response.role](std::function<void(Response)> done) {
        inner([role, done = std::move(done)](Response final_response) {
          final_response.role = role;
          done(std::move(final_response));
        });
      };
    }
    return response;
  };
  if (runs == Runs::kInline) return router.Add(method, pattern, std::move(with_role));
  router.Add(method, pattern, [this, with_role = std::move(with_role)](const Request& r) {
    // A copy: the server may reuse its Request once this handler returned.
    return OnPool([with_role, request = std::make_shared<const Request>(r)] { return with_role(*request); });
  });
}

template <typename T>
void Api::PostToPool(std::function<T()> work, std::function<void(T)> done) {
  boost::asio::post(blocking_, [work = std::move(work), done = std::move(done)]() mutable {
    std::optional<T> result;
    try {
      result.emplace(work());
    } catch (...) {
      // what() is dropped, as in Router::Dispatch: it may quote submitted values.
      result.emplace(ErrorResponse(500, "internal", "internal error"));
    }
    try {
      done(std::move(*result));
    } catch (...) {
      // Escaping, it would end the pool thread and with it the process. A
      // session's completion that was dropped without being called answers
      // 500 (DeferredCompletion in server.cc).
    }
  });
}

Response Api::OnPool(std::function<Response()> work) {
  Response deferred;
  deferred.deferred = [this, work = std::move(work)](std::function<void(Response)> done) {
    // A throw from `next` ends in PostToPool's guard, like one from `done`.
    PostToPool<Response>(work, [done = std::move(done)](Response response) mutable {
      if (!response.deferred) return done(std::move(response));
      auto next = std::move(response.deferred);
      next(std::move(done));
    });
  };
  return deferred;
}

void Api::Register(Router& router) {
  Add(router, "GET", "/healthz", [this](const Request& r) { return Healthz(r); }, Runs::kInline);
  Add(router, "GET", "/readyz", [this](const Request& r) { return Readyz(r); });
  Add(router, "GET", "/metrics", [this](const Request& r) { return MetricsText(r); });
  Add(router, "GET", "/v1/openapi.json", [this](const Request& r) { return OpenApi(r); }, Runs::kInline);
  Add(router, "GET", "/v1/aggregates", [this](const Request& r) { return Aggregates(r); }, Runs::kInline);
  Add(router, "GET", "/v1/snapshots", [this](const Request& r) { return Snapshots(r); });
  Add(router, "GET", "/v1/budget", [this](const Request& r) { return Budget(r); });
  Add(router, "GET", "/v1/unhcr/population", [this](const Request& r) { return UnhcrPopulation(r); });
  Add(router, "GET", "/v1/unhcr/demographics", [this](const Request& r) { return UnhcrDemographics(r); });
  Add(router, "GET", "/v1/audit", [this](const Request& r) { return Audit(r); });
  Add(router, "GET", "/v1/audit/verify", [this](const Request& r) { return AuditVerify(r); });
  Add(router, "GET", "/v1/grants", [this](const Request& r) { return Grants(r); });
  RegisterConsole(router);  // GET /console/, /console/{file}: the web console (console.cc)
  Add(router, "GET", "/v1/keys", [this](const Request& r) { return Keys(r); });
  Add(router, "POST", "/v1/admin/reload", [this](const Request& r) { return Reload(r); });
  Add(router, "GET", "/v1/codelists", [this](const Request& r) { return Codelists(r); }, Runs::kInline);
  Add(router, "GET", "/v1/codelists/{name}", [this](const Request& r) { return Codelist(r); }, Runs::kInline);
  router.AddStreaming(
      "PUT", "/v1/snapshots/{country}/{ref_date}", [this](const Request& r) { return UploadHead(r); },
      deployment_.config().max_upload_bytes);
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
  ServedRole() = consumer->role;
  return Principal{consumer->name, consumer->role};
}

HeadDecision Api::UploadHead(const Request& head) {
  const std::string& country = head.path_params.at("country");
  auto ref_date = ParseIsoDate(head.path_params.at("ref_date"));
  if (!ref_date) return ErrorFromStatus(Status::InvalidArgument("the reference date in the path must be YYYY-MM-DD"));
  IngestRequest req;
  req.country = country;
  req.ref_date = *ref_date;
  for (const auto& [k, v] : head.query) {
    if (k == "profile") {
      req.profile = v;
    } else if (k == "charset") {
      req.charset = v;
    } else if (k == "partial") {
      if (v != "true" && v != "false") return ErrorFromStatus(Status::InvalidArgument("partial must be true or false"));
      req.partial = v == "true";
    } else {
      return ErrorFromStatus(Status::InvalidArgument("unknown parameter \"" + k + "\" (known: profile, charset, partial)"));
    }
  }
  if (req.profile.empty()) return ErrorFromStatus(Status::InvalidArgument("parameter \"profile\" is required"));
  if (Status s = ValidateIngestRequest(req); !s.ok()) {
    // A profile of another country is a bad request here: the signer may be right.
    return ErrorFromStatus(s.code() == Code::kPermissionDenied ? Status::InvalidArgument(s.message()) : s);
  }

  // 1. The signature, from the head alone.
  std::string sig_input = head.Header("signature-input"), sig = head.Header("signature");
  if (sig_input.empty() || sig.empty()) {
    return ErrorFromStatus(Status::Unauthenticated("uploads must be signed (RFC 9421 Signature-Input and Signature)"));
  }
  auto parsed = ParseSignature(sig_input, sig);
  if (!parsed.ok()) return ErrorFromStatus(Status::Unauthenticated(parsed.status().message()));
  if (parsed->alg != "ed25519") return ErrorFromStatus(Status::Unauthenticated("the signature must have alg=\"ed25519\""));
  for (const char* c : {"@method", "@target-uri", "content-digest", "content-type"}) {
    if (!parsed->Covers(c)) {
      return ErrorFromStatus(Status::Unauthenticated(std::string("the signature must cover ") + c));
    }
  }
  if (!parsed->created || parsed->nonce.empty() || parsed->keyid.empty()) {
    return ErrorFromStatus(Status::Unauthenticated("the signature must carry created, nonce and keyid"));
  }
  auto key = deployment_.store().FindMinistryKey(parsed->keyid);
  if (!key.ok()) return ErrorFromStatus(key.status());
  if (!key->has_value()) return ErrorFromStatus(Status::Unauthenticated("unknown key " + parsed->keyid));
  if ((*key)->country != country) {
    return ErrorFromStatus(Status::PermissionDenied("key " + parsed->keyid + " belongs to " + (*key)->country +
                                                    " and cannot write " + country + "'s snapshots"));
  }
  const int64_t now = UnixNow();
  if (*parsed->created > now + kSignatureWindowSeconds || *parsed->created < now - kSignatureWindowSeconds) {
    return ErrorFromStatus(Status::Unauthenticated("the signature's created time is more than " +
                                                   std::to_string(kSignatureWindowSeconds) +
                                                   " s from the server's clock"));
  }
  if (parsed->expires && *parsed->expires < now) {
    return ErrorFromStatus(Status::Unauthenticated("the signature has expired"));
  }
  SignatureContext ctx;
  ctx.method = head.method;
  ctx.target_uri = deployment_.config().public_url.empty()
                       ? "http://" + head.Header("host") + head.target
                       : deployment_.config().public_url + head.target;
  ctx.header = [&head](std::string_view name) -> std::optional<std::string> {
    auto it = head.headers.find(std::string(name));
    if (it == head.headers.end()) return std::nullopt;
    return it->second;
  };
  if (Status s = VerifySignature(*parsed, ctx, (*key)->public_key); !s.ok())
    return ErrorFromStatus(s);

  // 2. What the body must be.
  auto digest = ParseContentDigest(head.Header("content-digest"));
  if (!digest.ok()) return ErrorFromStatus(digest.status());
  const AdapterInfo* info = AdapterRegistry::Global().Find(req.profile);
  std::string content_type = head.Header("content-type");
  std::string media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  if (media != info->media_type) {
    return ErrorFromStatus(Status::InvalidArgument("profile " + req.profile + " expects Content-Type " +
                                                   info->media_type));
  }
  req.actor = "ministry:" + country + "/" + parsed->keyid;

  // 3. Not a replay. Recording the nonce is a write, which waits while another
  // writer (a CLI ingest, a commit) holds the lock: on the blocking pool, so
  // that no I/O thread waits with it. The body is not read until it is done.
  DeferredHead later;
  later.start = [this, keyid = parsed->keyid, nonce = parsed->nonce, created = *parsed->created,
                 now, req = std::move(req), digest = std::move(digest).value()](
                    std::function<void(HeadDecision)> decide) mutable {
    PostToPool<HeadDecision>(
        [this, keyid = std::move(keyid), nonce = std::move(nonce), created, now,
         req = std::move(req), digest = std::move(digest)]() mutable -> HeadDecision {
          auto fresh =
              deployment_.store().UseNonce(keyid, nonce, created, now - 2 * kSignatureWindowSeconds);
          if (!fresh.ok()) return ErrorFromStatus(fresh.status());
          if (!*fresh) {
            return ErrorFromStatus(Status::Unauthenticated("this nonce was already used (replay)"));
          }
          return std::shared_ptr<BodyConsumer>(std::make_shared<UploadConsumer>(
              deployment_.store(), deployment_.keys(), metrics_, std::move(req), std::move(digest)));
        },
        std::move(decide));
  };
  return later;
}

Response Api::Healthz(const Request&) {
  Response r;
  r.body = R"({"status":"ok"})";
  return r;
}

Response Api::Aggregates(const Request& request) {
  // On an I/O thread: the token (after its first use) and the answer cache are
  // in memory, and the engine, which needs the database, runs on the blocking
  // pool. A token's first lookup is one short read, which never waits for the
  // writer in WAL mode.
  auto who = Authenticate(request);
  if (!who.ok()) return ErrorFromStatus(who.status());
  auto query = ParseAggregateQuery(request.query);
  if (!query.ok()) return ErrorFromStatus(query.status());
  // An explicit format parameter wins over the Accept header.
  if (!query->format_given) {
    if (auto accepted = FormatFromAccept(request.Header("accept"))) query->format = OutputFormatName(*accepted);
  }
  // Everything an answer depends on besides the stored state, which the stamp
  // covers: who asks (grants and budgets are per consumer), the query, the day
  // (grants have validity dates) and the policy (compared below).
  const std::string canonical = CanonicalQuery(*query);
  std::string key = who->name + '\n' + who->role + '\n' + TodayUtc().ToIso() + '\n' + canonical;
  std::shared_ptr<const Policy> policy = deployment_.policies().current();
  const uint64_t stamp = deployment_.store().ChangeStampValue();
  const bool gzip = AcceptsGzip(request.Header("accept-encoding"));
  if (auto hit = answers_.Get(key, stamp); hit != nullptr && hit->policy == policy) {
    answers_from_cache_.fetch_add(1, std::memory_order_relaxed);
    return Release(*who, canonical, hit->record, hit->content_type, hit->body, gzip,
                   !query->format_given);
  }
  return OnPool([this, who = *who, query = std::move(query).value(), key = std::move(key), stamp,
                 policy = std::move(policy), gzip] {
    auto result = engine_.Aggregate(query, who);
    if (!result.ok()) return ErrorFromStatus(result.status());
    answers_computed_.fetch_add(1, std::memory_order_relaxed);
    RenderedBody rendered =
        Render(*result, ParseOutputFormat(query.format).value_or(OutputFormat::kJson));
    ReleaseRecord record = ReleaseRecord::Of({&*result});
    // A first release costs budget and says so in its body; its repeats cost
    // nothing and have another body. Only the latter are kept, with their
    // gzip coding, whoever asks first.
    bool cost_nothing = true;
    for (const auto& [country, micro] : record.epsilon_micro) cost_nothing &= micro == 0;
    const bool keep = cost_nothing && rendered.body.size() <= kMaxCachedAnswerBytes;
    CodedBody body =
        CodedBody::Of(std::move(rendered.body), std::move(rendered.sha256), gzip || keep);
    if (keep) {
      answers_.Put(key, stamp,
                   std::make_shared<const CachedAnswer>(
                       CachedAnswer{policy, rendered.content_type, body, record}));
    }
    return Release(who, CanonicalQuery(query), record, std::move(rendered.content_type), body, gzip,
                   !query.format_given);
  });
}

Api::ReleaseRecord Api::ReleaseRecord::Of(const std::vector<const AggregateResult*>& results) {
  ReleaseRecord record;
  for (const AggregateResult* result : results) {
    for (const auto& c : result->included) record.countries.push_back(c);
    for (const auto& b : result->budget) record.epsilon_micro[b.country] += b.cost_micro;
  }
  return record;
}

Response Api::Release(const Principal& who, const std::string& query_text,
                      const ReleaseRecord& record, std::string content_type, const CodedBody& body,
                      bool accepts_gzip, bool format_from_accept) {
  const bool gzipped = accepts_gzip && body.gzip != nullptr;
  const std::string coding = gzipped ? "gzip" : "";
  Response r;
  r.content_type = std::move(content_type);
  r.shared_body = gzipped ? body.gzip : body.identity;
  // A release's body depends on Accept-Encoding, and on Accept when no format
  // parameter was given (caches must not mix codings or formats).
  r.headers.emplace_back("Vary",
                         format_from_accept ? "Accept, Accept-Encoding" : "Accept-Encoding");
  const std::string digest =
      ContentDigestFromSha256(gzipped ? body.gzip_sha256 : body.identity_sha256);
  // {"content_encoding":...,"countries":[...],"epsilon":{...},
  // "identity_digest":...,"query":...,"response_digest":...}, the keys in the
  // order nlohmann::json wrote them before this was hand-written (it is on
  // every release's path). Only a gzipped body has content_encoding and
  // identity_digest, the digest of the table itself, whatever its coding.
  std::string detail = "{";
  if (!coding.empty()) {
    detail += "\"content_encoding\":";
    AppendJsonString(detail, coding);
    detail += ',';
  }
  detail += "\"countries\":[";
  for (const std::string& c : record.countries) {
    if (detail.back() != '[') detail += ',';
    AppendJsonString(detail, c);
  }
  detail += ']';
  if (!record.epsilon_micro.empty()) {
    detail += ",\"epsilon\":{";
    for (const auto& [country, micro] : record.epsilon_micro) {
      if (detail.back() != '{') detail += ',';
      AppendJsonString(detail, country);
      detail += ':';
      AppendJsonString(detail, FormatMicro(micro));
    }
    detail += '}';
  }
  if (gzipped) {
    detail += ",\"identity_digest\":";
    AppendJsonString(detail, ContentDigestFromSha256(body.identity_sha256));
  }
  detail += ",\"query\":";
  AppendJsonString(detail, query_text);
  detail += ",\"response_digest\":";
  AppendJsonString(detail, digest);
  detail += '}';
  // Signed now, sent later: no number leaves unaudited, so the answer waits
  // until its audit entry is durable, but no server thread waits with it.
  auto answer =
      std::make_shared<Response>(SignResponse(deployment_.keys(), std::move(r), digest, coding));
  if (answer->status >= 500) return std::move(*answer);
  Response deferred;
  deferred.deferred = [store = &deployment_.store(), actor = who.name, detail = std::move(detail),
                       answer](std::function<void(Response)> done) mutable {
    store->AppendAuditAsync("aggregate.release", std::move(actor), std::move(detail),
                            [answer, done = std::move(done)](Status audited) {
                              if (!audited.ok()) {
                                return done(ErrorFromStatus(Status::Unavailable(
                                    "the release could not be audited, so it is withheld")));
                              }
                              done(std::move(*answer));
                            });
  };
  return deferred;
}

Result<Principal> Api::AuthenticateOperator(const Request& request) {
  GW_ASSIGN_OR_RETURN(Principal who, Authenticate(request));
  if (who.role != "operator") return Status::PermissionDenied("this route is for operators");
  return who;
}

Response Api::Audit(const Request& request) {
  auto who = AuthenticateOperator(request);
  if (!who.ok()) return ErrorFromStatus(who.status());
  int64_t after = 0, limit = 1000;
  for (const auto& [k, v] : request.query) {
    int64_t* target = k == "after" ? &after : k == "limit" ? &limit : nullptr;
    if (target == nullptr) {
      return ErrorFromStatus(Status::InvalidArgument("unknown parameter \"" + k + "\" (known: after, limit)"));
    }
    if (v.empty() || v.size() > 15 || v.find_first_not_of("0123456789") != std::string::npos) {
      return ErrorFromStatus(Status::InvalidArgument("parameter \"" + k + "\" must be a whole number"));
    }
    *target = std::stoll(v);
  }
  limit = std::clamp<int64_t>(limit, 1, 10000);
  auto entries = deployment_.store().ListAudit(after, limit);
  if (!entries.ok()) return ErrorFromStatus(entries.status());
  nlohmann::ordered_json items = nlohmann::ordered_json::array();
  for (const auto& e : *entries) {
    items.push_back({{"seq", e.seq},
                     {"ts", e.ts},
                     {"kind", e.kind},
                     {"actor", e.actor},
                     {"detail", nlohmann::ordered_json::parse(e.detail, nullptr, false)},
                     {"prev_hash", ToHex(e.prev_hash)},
                     {"hash", ToHex(e.hash)}});
  }
  Response r;
  r.body = nlohmann::ordered_json{{"entries", items},
                                  {"next_after", entries->empty() ? after : entries->back().seq}}
               .dump();
  return r;
}

Response Api::Keys(const Request&) {
  auto key = deployment_.keys().GatewayKey();
  if (!key.ok()) return ErrorFromStatus(Status::Internal("the gateway's signing key is not usable"));
  Response r;
  r.body = nlohmann::ordered_json{{"gateway", {{"keyid", (*key)->keyid()}, {"public_key", ToBase64((*key)->public_key())}}}}
               .dump();
  return r;
}

Response Api::Reload(const Request& request) {
  auto who = AuthenticateOperator(request);
  if (!who.ok()) return ErrorFromStatus(who.status());
  Status s = ReloadPolicies(deployment_, who->name);
  if (!s.ok()) {
    return ErrorFromStatus(Status::Unprocessable("the policies failed to load and the previous ones stay in force: " +
                                                 s.message()));
  }
  Response r;
  r.body = nlohmann::ordered_json{{"status", "reloaded"},
                                  {"grants", deployment_.policies().current()->grants().size()}}
               .dump();
  return r;
}

Response Api::Snapshots(const Request& request) {
  auto who = AuthenticateOperator(request);
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
