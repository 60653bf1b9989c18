#include "gateway/cli/commands.h"

#include <malloc.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <cstdio>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <map>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "gateway/cli/args.h"
#include "gateway/cli/push.h"
#include "gateway/common/byte_source.h"
#include "gateway/crypto/keys.h"
#include "gateway/crypto/signing.h"
#include "gateway/deployment.h"
#include "gateway/http/api.h"
#include "gateway/http/server.h"
#include "gateway/ingest/ingest.h"
#include "gateway/schema/adapter_registry.h"

namespace gw::cli {
namespace {

// UTC with milliseconds, for log lines.
std::string NowIso() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
  return out;
}

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitRejected = 2;

struct Command {
  std::string name;  // "consumer add"
  std::string summary;
  std::string usage;
  FlagSpec flags;
  std::function<int(const Args&, std::ostream&, std::ostream&)> run;
};

int Fail(std::ostream& err, const Status& s) {
  err << "gateway: " << s.message() << "\n";
  return kExitError;
}

std::string ProfilesHelp() {
  std::string out = "Profiles (from the adapter registry):\n";
  for (const auto* a : AdapterRegistry::Global().All()) {
    std::string charsets;
    for (const auto& c : a->charsets) charsets += (charsets.empty() ? "" : ", ") + c;
    out += "  " + a->profile + "  " + a->description + (a->country.empty() ? "" : "; country " + a->country) +
           (charsets.empty() ? "" : "; charsets " + charsets) + "\n";
  }
  return out;
}

int Init(const Args& a, std::ostream& out, std::ostream& err) {
  if (a.positional().size() != 1) return Fail(err, Status::InvalidArgument("usage: gateway init DIR"));
  const std::string& dir = a.positional()[0];
  Status s = Deployment::Init(dir);
  if (!s.ok()) return Fail(err, s);
  out << "initialised gateway deployment in " << dir << "\n"
      << "  settings:  " << dir << "/gateway.toml\n"
      << "  keys:      " << dir << "/keys/ (keep secret; back up offline)\n"
      << "  policies:  " << dir << "/policies/ (nothing is shared until a grant says so)\n"
      << "next: gateway consumer add NAME --dir " << dir << ", then gateway serve --dir " << dir << "\n";
  return kExitOk;
}

int Ingest(const Args& a, std::ostream& out, std::ostream& err) {
  auto dir = a.Require("dir");
  auto country = a.Require("country");
  auto ref = a.Require("ref-date");
  auto profile = a.Require("profile");
  for (const auto* r : {&dir, &country, &ref, &profile})
    if (!r->ok()) return Fail(err, r->status());
  if (a.positional().size() != 1) {
    return Fail(err, Status::InvalidArgument("exactly one FILE is required (use - for standard input)"));
  }
  auto date = ParseIsoDate(*ref);
  if (!date) return Fail(err, Status::InvalidArgument("--ref-date must be a real date YYYY-MM-DD"));
  IngestRequest req{*country, *date, *profile, a.Get("charset").value_or(""), a.Has("partial")};
  if (Status s = ValidateIngestRequest(req); !s.ok()) return Fail(err, s);
  auto deployment = Deployment::Open(*dir);
  if (!deployment.ok()) return Fail(err, deployment.status());
  auto file = FileSource::Open(a.positional()[0]);
  if (!file.ok()) return Fail(err, file.status());
  Ingestor ingestor((*deployment)->store(), (*deployment)->keys());
  auto receipt = ingestor.Ingest(req, **file);
  if (!receipt.ok()) return Fail(err, receipt.status());
  out << receipt->ToJson(2) << "\n";
  if (receipt->committed()) return kExitOk;
  if (receipt->error_message) {
    err << "gateway: snapshot rejected: " << *receipt->error_message << "\n";
  } else {
    err << "gateway: snapshot rejected: " << receipt->rejected.size()
        << " invalid row(s); nothing was stored (use --partial to commit the valid rows)\n";
  }
  return kExitRejected;
}

int ConsumerAdd(const Args& a, std::ostream& out, std::ostream& err) {
  if (a.positional().size() != 1) {
    return Fail(err, Status::InvalidArgument("usage: gateway consumer add NAME --dir DIR [--role consumer|operator]"));
  }
  const std::string& name = a.positional()[0];
  static const std::regex kName("[a-z0-9][a-z0-9_.-]{0,63}");
  if (!std::regex_match(name, kName)) {
    return Fail(err, Status::InvalidArgument(
                         "consumer name must be 1-64 characters of a-z, 0-9, '_', '.', '-', "
                         "starting with a letter or digit"));
  }
  std::string role = a.Get("role").value_or("consumer");
  if (role != "consumer" && role != "operator") {
    return Fail(err, Status::InvalidArgument("--role must be consumer or operator"));
  }
  auto dir = a.Require("dir");
  if (!dir.ok()) return Fail(err, dir.status());
  auto deployment = Deployment::Open(*dir);
  if (!deployment.ok()) return Fail(err, deployment.status());
  auto key = (*deployment)->keys().TokenKey();
  if (!key.ok()) return Fail(err, key.status());
  std::string token = "gwt_" + ToBase64Url(RandomBytes(32));
  Status s = (*deployment)->store().AddConsumer(name, role, HashToken(*key, token));
  if (!s.ok()) return Fail(err, s);
  err << "added " << role << " \"" << name << "\". The token below is shown once and stored only "
      << "as a keyed hash: hand it over securely.\n";
  out << token << "\n";
  return kExitOk;
}

int Keygen(const Args& a, std::ostream& out, std::ostream& err) {
  auto prefix = a.Require("out");
  if (!prefix.ok()) return Fail(err, prefix.status());
  SigningKey key = SigningKey::Generate();
  if (Status s = WriteSecretKeyFile(*prefix + ".key", key.seed()); !s.ok()) return Fail(err, s);
  if (Status s = WriteSecretKeyFile(*prefix + ".pseudonym.key", RandomBytes(kPseudonymKeyBytes)); !s.ok()) {
    return Fail(err, s);
  }
  std::ofstream pub(*prefix + ".pub");
  pub << ToBase64(key.public_key()) << "\n";
  pub.close();
  if (!pub) return Fail(err, Status::IoError("cannot write " + *prefix + ".pub"));
  err << "wrote " << *prefix << ".key and " << *prefix << ".pseudonym.key (secret, mode 0600: keep them on "
      << "the ministry's machine; back up the pseudonym key, or later uploads will not match earlier ones) and "
      << *prefix << ".pub (give it to the gateway operator)\n";
  out << key.keyid() << "\n";
  return kExitOk;
}

int CountryAdd(const Args& a, std::ostream& out, std::ostream& err) {
  if (a.positional().size() != 1) {
    return Fail(err, Status::InvalidArgument("usage: gateway country add CODE --dir DIR --pubkey FILE"));
  }
  const std::string& country = a.positional()[0];
  if (std::find(kReportingCountries.begin(), kReportingCountries.end(), country) == kReportingCountries.end()) {
    return Fail(err, Status::InvalidArgument("unknown reporting country \"" + country +
                                             "\" (known: KAZ, KGZ, TJK, TKM, UZB)"));
  }
  auto dir = a.Require("dir");
  auto pubkey_file = a.Require("pubkey");
  for (const auto* r : {&dir, &pubkey_file})
    if (!r->ok()) return Fail(err, r->status());
  auto pub = LoadPublicKeyFile(*pubkey_file);
  if (!pub.ok()) return Fail(err, pub.status());
  auto deployment = Deployment::Open(*dir);
  if (!deployment.ok()) return Fail(err, deployment.status());
  MinistryKey key{KeyIdFor(*pub), country, *pub, ""};
  if (Status s = (*deployment)->store().AddMinistryKey(key, "cli"); !s.ok()) return Fail(err, s);
  err << "registered a ministry key for " << country << "; it may now upload " << country
      << "'s snapshots\n";
  out << key.keyid << "\n";
  return kExitOk;
}

int CountryRevoke(const Args& a, std::ostream& out, std::ostream& err) {
  if (a.positional().size() != 2) {
    return Fail(err, Status::InvalidArgument("usage: gateway country revoke CODE KEYID --dir DIR"));
  }
  auto dir = a.Require("dir");
  if (!dir.ok()) return Fail(err, dir.status());
  auto deployment = Deployment::Open(*dir);
  if (!deployment.ok()) return Fail(err, deployment.status());
  Status s = (*deployment)->store().RevokeMinistryKey(a.positional()[0], a.positional()[1], "cli");
  if (!s.ok()) return Fail(err, s);
  out << "revoked key " << a.positional()[1] << " of " << a.positional()[0] << "\n";
  return kExitOk;
}

int ConsumerRevoke(const Args& a, std::ostream& out, std::ostream& err) {
  if (a.positional().size() != 1) {
    return Fail(err, Status::InvalidArgument("usage: gateway consumer revoke NAME --dir DIR"));
  }
  auto dir = a.Require("dir");
  if (!dir.ok()) return Fail(err, dir.status());
  auto deployment = Deployment::Open(*dir);
  if (!deployment.ok()) return Fail(err, deployment.status());
  if (Status s = (*deployment)->store().RevokeConsumer(a.positional()[0], "cli"); !s.ok()) return Fail(err, s);
  out << "revoked \"" << a.positional()[0] << "\": its token no longer works\n";
  return kExitOk;
}

int AuditVerify(const Args& a, std::ostream& out, std::ostream& err) {
  auto dir = a.Require("dir");
  if (!dir.ok()) return Fail(err, dir.status());
  auto deployment = Deployment::Open(*dir);
  if (!deployment.ok()) return Fail(err, deployment.status());
  auto v = (*deployment)->store().VerifyAudit();
  if (!v.ok()) return Fail(err, v.status());
  if (!v->ok) {
    err << "gateway: audit chain broken at entry " << v->first_broken_seq << ": " << v->problem
        << " (" << v->entries << " entries before it verified)\n";
    return kExitError;
  }
  out << "audit chain verified: " << v->entries << " entries\n";
  return kExitOk;
}

int Snapshots(const Args& a, std::ostream& out, std::ostream& err) {
  auto dir = a.Require("dir");
  if (!dir.ok()) return Fail(err, dir.status());
  auto deployment = Deployment::Open(*dir);
  if (!deployment.ok()) return Fail(err, deployment.status());
  auto list = (*deployment)->store().ListSnapshots(a.Get("country").value_or(""));
  if (!list.ok()) return Fail(err, list.status());
  if (a.Has("json")) {
    nlohmann::ordered_json items = nlohmann::ordered_json::array();
    for (const auto& s : *list) {
      items.push_back({{"country", s.country}, {"ref_date", s.ref_date}, {"version", s.version},
                       {"current", s.current}, {"profile", s.profile}, {"digest", s.digest},
                       {"created_at", s.created_at},
                       {"receipt", nlohmann::ordered_json::parse(s.receipt_json, nullptr, false)}});
    }
    out << nlohmann::ordered_json{{"snapshots", items}}.dump(2) << "\n";
    return kExitOk;
  }
  out << "country  ref_date    version  current  created_at            profile    rows/accepted/in_stock/rejected  digest\n";
  for (const auto& s : *list) {
    out << std::left << std::setw(9) << s.country << std::setw(12) << s.ref_date << std::setw(9) << s.version
        << std::setw(9) << (s.current ? "yes" : "") << std::setw(22) << s.created_at << std::setw(11)
        << s.profile << "rows=" << s.rows << " accepted=" << s.accepted << " in_stock=" << s.in_stock
        << " rejected=" << s.rejected << "  " << s.digest.substr(0, 19) << "\n";
  }
  if (list->empty()) out << "(no snapshots)\n";
  return kExitOk;
}

int PolicyCheck(const Args& a, std::ostream& out, std::ostream& err) {
  auto dir = a.Require("dir");
  if (!dir.ok()) return Fail(err, dir.status());
  auto policy = LoadPolicies(*dir + "/policies");
  if (!policy.ok()) return Fail(err, policy.status());
  const Date today = TodayUtc();
  out << "effective grants (" << policy->grants().size() << "):\n";
  int warnings = 0;
  for (const auto& g : policy->grants()) {
    std::string dims, pops;
    for (Dim d : g.dimensions) dims += (dims.empty() ? "" : ",") + std::string(DimName(d));
    for (const auto& p : g.pop_types) pops += (pops.empty() ? "" : ",") + p;
    bool expired = g.expires && today > *g.expires;
    out << "  " << g.country << " -> " << g.consumer << "  mechanism=" << MechanismName(g.mechanism)
        << " pop_types=" << pops << " dimensions=" << dims;
    if (g.mechanism == Mechanism::kDp) {
      out << " epsilon=" << FormatMicro(g.epsilon_micro) << " budget=" << FormatMicro(g.budget_micro)
          << " (" << g.budget_micro / g.epsilon_micro << " new tables per country and reference date)";
    }
    if (g.threshold) out << " threshold=" << g.threshold;
    if (g.rounding) out << " rounding=" << g.rounding;
    if (g.expires) out << " expires=" << g.expires->ToIso() << (expired ? " (EXPIRED: not applied)" : "");
    out << "  [" << g.file << " #" << g.index << "]\n";
    if (g.mechanism == Mechanism::kNone) {
      ++warnings;
      err << "warning: " << g.Describe() << " releases EXACT counts (mechanism \"none\"); "
          << "use it only for a country's own data or an explicit operator decision\n";
    }
    // docs/privacy.md: above these the guarantee no longer means much for one person.
    if (g.mechanism == Mechanism::kDp && (g.epsilon_micro > 2000000 || g.budget_micro > 10000000)) {
      ++warnings;
      err << "warning: " << g.Describe() << " allows epsilon " << FormatMicro(g.epsilon_micro)
          << " per table and " << FormatMicro(g.budget_micro)
          << " in all: a weak guarantee (recommended: 0.5 and at most 5; see docs/privacy.md)\n";
    }
    if (g.mechanism == Mechanism::kSdc && g.threshold == 0) {
      ++warnings;
      err << "warning: " << g.Describe() << " uses \"sdc\" without a threshold: nothing is suppressed\n";
    }
  }
  out << "policies are valid; " << warnings << " warning(s)\n";
  return kExitOk;
}

// Signals are blocked in every thread and taken synchronously by the main
// thread, so no handler runs inside a server thread.
int Serve(const Args& a, std::ostream& out, std::ostream& err) {
  auto dir = a.Require("dir");
  if (!dir.ok()) return Fail(err, dir.status());
  auto opened = Deployment::Open(*dir, {.read_database_ahead = true});
  if (!opened.ok()) return Fail(err, opened.status());
  Deployment& d = **opened;
  if (Status s = d.store().CheckIntegrity(); !s.ok()) {
    if (s.code() != Code::kCorruption) return Fail(err, s.WithContext("refusing to start: cannot check the database"));
    return Fail(err, s.WithContext("refusing to start on a damaged database; restore it from a backup (replace "
                                   "gateway.db, delete any gateway.db-wal and gateway.db-shm beside it), as "
                                   "docs/operations.md (Back up and restore) explains"));
  }
  if (Status s = http::ReloadPolicies(d, "serve"); !s.ok()) return Fail(err, s.WithContext("policies"));
  if (auto key = d.keys().TokenKey(); !key.ok()) return Fail(err, key.status());
  DeploymentConfig cfg = d.config();
  if (auto listen = a.Get("listen")) {
    if (Status s = ParseListen(*listen, cfg.listen_host, cfg.listen_port); !s.ok()) return Fail(err, s);
  }

  // Answers of tens of kilobytes are allocated and freed on every request;
  // by default glibc hands freed memory at the top of a heap back to the
  // kernel once 128 KiB are free, and the next answer faults the pages in
  // again (a tenth of the CPU of a 65 KB query under load). Keep up to 32 MiB
  // per heap for reuse instead.
  mallopt(M_TRIM_THRESHOLD, 32 << 20);

  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  http::Router router;
  http::Api api(d);
  api.Register(router);
  http::ServerOptions options;
  // Nothing on the I/O threads waits for the disk (handlers that may run on
  // the Api's blocking pool; releases complete when the audit thread has made
  // them durable), so one per core: more only add context switches.
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.threads = cfg.threads > 0 ? cfg.threads : cores;
  options.header_limit = cfg.max_header_bytes;
  options.body_limit = cfg.max_body_bytes;
  options.max_connections = cfg.max_connections;
  options.header_timeout = cfg.header_timeout;
  options.body_timeout = cfg.body_timeout;
  options.idle_timeout = cfg.idle_timeout;
  options.write_timeout = cfg.write_timeout;
  options.shutdown_timeout = cfg.shutdown_timeout;
  options.max_query_params = cfg.max_query_params;
  options.on_complete = [&api](const http::Request& req, const http::Response& res,
                               std::chrono::microseconds took) {
    api.metrics().ObserveRequest(req.method, req.route, res.status, took);
    // One structured line per request: never a token, a body, a query string
    // or a path parameter's value beyond the route's own pattern.
    nlohmann::json line = {{"ts", NowIso()},
                           {"event", "request"},
                           {"method", req.method},
                           {"route", req.route.empty() ? "unmatched" : req.route},
                           {"status", res.status},
                           {"duration_ms", static_cast<double>(took.count()) / 1000.0},
                           {"role", res.role.empty() ? "anonymous" : res.role},
                           {"bytes", res.BodySize()}};
    std::fprintf(stderr, "%s\n",
                 line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  };
  http::Server server(options, router);
  if (Status s = server.Listen(cfg.listen_host, cfg.listen_port); !s.ok()) return Fail(err, s);
  server.Start();
  std::string host = cfg.listen_host.find(':') != std::string::npos ? "[" + cfg.listen_host + "]" : cfg.listen_host;
  out << "listening on http://" << host << ":" << server.port() << std::endl;

  while (true) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      Status s = http::ReloadPolicies(d, "signal:SIGHUP");
      err << (s.ok() ? "policies reloaded\n" : "policy reload failed, previous policies stay in force: " + s.message() + "\n");
      continue;
    }
    err << "stopping (signal " << sig << ")\n";
    break;
  }
  server.Stop();
  server.Wait();
  return kExitOk;
}

std::vector<Command> Commands() {
  return {
      {"init", "create a new deployment directory", "gateway init DIR", {}, Init},
      {"ingest",
       "validate a national file and commit it as a snapshot",
       "gateway ingest --dir DIR --country CODE --ref-date YYYY-MM-DD --profile P [--charset C] "
       "[--partial] FILE\n\nPrints the receipt as JSON on stdout. Exit 0 committed, 2 rejected, 1 "
       "other errors. Strict by default: one invalid row rejects the snapshot; --partial commits "
       "the valid rows and lists the rest. FILE may be - for standard input.",
       {{"dir", "country", "ref-date", "profile", "charset"}, {"partial"}},
       Ingest},
      {"serve",
       "run the HTTP server",
       "gateway serve --dir DIR [--listen HOST:PORT]\n\nPrints \"listening on URL\" once ready. "
       "SIGHUP reloads the policies; SIGTERM or SIGINT stops gracefully.",
       {{"dir", "listen"}, {}},
       Serve},
      {"consumer add",
       "register a consumer or operator and print its token once",
       "gateway consumer add NAME --dir DIR [--role consumer|operator]",
       {{"dir", "role"}, {}},
       ConsumerAdd},
      {"push",
       "validate, pseudonymise and upload a register from the ministry's machine",
       "gateway push --url URL --key KEYFILE --country CODE --ref-date YYYY-MM-DD --profile P "
       "[--charset C] [--partial] [--raw] [--pseudonym-key FILE] FILE\n\nRuns the national adapter "
       "here, replaces national IDs by keyed hashes under the ministry's pseudonym key (default: "
       "KEYFILE with .key replaced by .pseudonym.key) and uploads only shared-schema records "
       "(profile shared-v1), signed with KEYFILE. --raw uploads the national file as it is. "
       "Prints the receipt JSON; exit 0 committed, 2 rejected, 1 other errors.",
       {{"url", "key", "country", "ref-date", "profile", "charset", "pseudonym-key"}, {"partial", "raw"}},
       Push},
      {"keygen",
       "create a ministry's Ed25519 key pair",
       "gateway keygen --out PREFIX\n\nWrites PREFIX.key (Ed25519 secret, base64, mode 0600), "
       "PREFIX.pseudonym.key (the ministry's pseudonym key for push, mode 0600) and PREFIX.pub "
       "(public, base64) and prints the keyid.",
       {{"out"}, {}},
       Keygen},
      {"country add",
       "register a ministry's public key and print its keyid",
       "gateway country add CODE --dir DIR --pubkey FILE\n\nSeveral keys per country may be "
       "active at once, for rotation.",
       {{"dir", "pubkey"}, {}},
       CountryAdd},
      {"country revoke",
       "remove a ministry key",
       "gateway country revoke CODE KEYID --dir DIR",
       {{"dir"}, {}},
       CountryRevoke},
      {"consumer revoke",
       "remove a consumer or operator; its token stops working at once",
       "gateway consumer revoke NAME --dir DIR",
       {{"dir"}, {}},
       ConsumerRevoke},
      {"snapshots",
       "list snapshot versions with their receipts",
       "gateway snapshots --dir DIR [--country CC] [--json]\n\nOne line per version (newest reference "
       "date first), the current one marked; --json prints every receipt in full.",
       {{"dir", "country"}, {"json"}},
       Snapshots},
      {"audit verify",
       "recompute the audit hash chain; exit 1 naming the first broken entry",
       "gateway audit verify --dir DIR",
       {{"dir"}, {}},
       AuditVerify},
      {"policy check",
       "validate the sharing policies and print the effective grants",
       "gateway policy check --dir DIR",
       {{"dir"}, {}},
       PolicyCheck},
  };
}

void PrintUsage(std::ostream& out) {
  out << "gateway: the Central Asia migration-data gateway\n\nCommands:\n";
  for (const auto& c : Commands()) out << "  " << std::left << std::setw(14) << c.name << c.summary << "\n";
  out << "\nRun gateway COMMAND --help for a command's options.\n";
}

}  // namespace

int Run(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  if (argv.empty() || argv[0] == "--help" || argv[0] == "-h" || argv[0] == "help") {
    PrintUsage(argv.empty() ? err : out);
    return argv.empty() ? kExitError : kExitOk;
  }
  for (const auto& c : Commands()) {
    // Two-word commands ("consumer add") match two arguments.
    size_t words = c.name.find(' ') == std::string::npos ? 1 : 2;
    if (argv.size() < words) continue;
    std::string given = words == 1 ? argv[0] : argv[0] + " " + argv[1];
    if (given != c.name) continue;
    std::vector<std::string> rest(argv.begin() + static_cast<long>(words), argv.end());
    auto args = Args::Parse(rest, c.flags);
    if (!args.ok()) {
      err << "gateway " << c.name << ": " << args.status().message() << "\nusage: " << c.usage << "\n";
      return kExitError;
    }
    if (args->Has("help")) {
      out << "usage: " << c.usage << "\n";
      if (c.name == "ingest") out << "\n" << ProfilesHelp();
      return kExitOk;
    }
    return c.run(*args, out, err);
  }
  err << "gateway: unknown command \"" << argv[0] << "\"\n";
  PrintUsage(err);
  return kExitError;
}

}  // namespace gw::cli
