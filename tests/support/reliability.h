// Helpers for the reliability tests (crash, hostile HTTP, soak, storage
// faults): child processes with resource limits and timeouts, `gateway serve`
// that can be killed at any moment, raw loopback sockets, /proc sampling, the
// gwgen generator, and a consistency check of a deployment's SQLite store
// that reads the tables directly rather than through the gateway's own code.
//
// Everything talks to 127.0.0.1 only and every wait is bounded, so a hung
// server fails a test instead of hanging CI.
//
// Thread-safety: Child and GatewayServer belong to one thread; the free
// functions are safe to call from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/signer.h"
#include "support/test_deployment.h"

namespace gw::test {

using Ms = std::chrono::milliseconds;

// The gwgen generator, built next to the gateway binary (bench/gwgen.cc).
std::string GwgenBin();

struct SpawnOptions {
  std::string stdin_path;   // empty: /dev/null
  std::string stdout_path;  // empty: /dev/null
  std::string stderr_path;  // empty: /dev/null
  bool append_stderr = false;
  // RLIMIT_FSIZE in bytes (< 0: unchanged). SIGXFSZ is ignored in the child,
  // so a write past the limit fails with EFBIG, as on a full disk.
  int64_t file_size_limit = -1;
  // Run as this uid/gid (>= 0; needs root), e.g. to make chmod bite.
  int uid = -1, gid = -1;
};

// A child process; killed (SIGKILL) and reaped on destruction if still running.
class Child {
 public:
  Child() = default;
  // `stdout_fd` >= 0: the child's stdout is a dup of it (e.g. a pipe), overriding stdout_path.
  Child(const std::vector<std::string>& argv, const SpawnOptions& options, int stdout_fd = -1);
  Child(Child&& o) noexcept : pid_(o.pid_), status_(o.status_) { o.pid_ = -1; }
  Child& operator=(Child&& o) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  pid_t pid() const { return pid_; }
  bool running();
  void Signal(int sig);
  // Exit code, 128 + signal, or nullopt if still running after `timeout`.
  std::optional<int> Wait(Ms timeout);

 private:
  pid_t pid_ = -1;
  int status_ = -1;  // after reaping
};

// `gateway` with a timeout; like RunGateway, with SpawnOptions.
ProcessResult RunGatewayWith(const std::vector<std::string>& args, SpawnOptions options = {},
                             Ms timeout = Ms(60000));

// `gateway serve --dir DIR --listen 127.0.0.1:0`, its stderr appended to
// DIR/server.stderr.log. The constructor waits (bounded) for "listening on";
// if the server exits instead, started() is false and exit_code() says why.
class GatewayServer {
 public:
  explicit GatewayServer(const std::string& dir, SpawnOptions options = {}, Ms startup = Ms(30000));
  bool started() const { return port_ != 0; }
  uint16_t port() const { return port_; }
  pid_t pid() const { return child_.pid(); }
  bool running() { return child_.running(); }
  void Signal(int sig) { child_.Signal(sig); }
  // SIGKILL and reap.
  void Kill();
  // SIGTERM and wait up to `timeout`: the exit code, or nullopt (then SIGKILL).
  std::optional<int> Terminate(Ms timeout = Ms(15000));
  std::optional<int> exit_code() { return child_.Wait(Ms(0)); }
  std::string Log() const;

 private:
  std::string dir_;
  Child child_;
  uint16_t port_ = 0;
};

// ---- Raw loopback sockets -------------------------------------------------------

// A blocking TCP connection to 127.0.0.1:port; -1 on failure. `rcvbuf` > 0
// sets SO_RCVBUF first (a small window makes a non-reading client block the server).
int ConnectLoopback(uint16_t port, int rcvbuf = 0);
// Writes everything within `timeout`; false on error or timeout.
bool SendAll(int fd, std::string_view bytes, Ms timeout);
// Reads until the peer closes, `max` bytes arrived, or `timeout` passed.
// `closed` tells whether the peer closed (EOF or reset).
std::string ReadUntilClosed(int fd, Ms timeout, bool* closed, size_t max = 1 << 20);
// The status code of the first response in `bytes` ("HTTP/1.1 400 ..."), or 0.
int FirstStatus(const std::string& bytes);
// Raises RLIMIT_NOFILE's soft limit to min(hard, want); returns the new soft limit.
int64_t RaiseFdLimit(int64_t want);

// ---- /proc ----------------------------------------------------------------------

int64_t RssKb(pid_t pid);  // VmRSS, -1 if unknown
int FdCount(pid_t pid);    // entries of /proc/PID/fd, -1 if unknown

// ---- HTTP helpers (fresh connection each) -----------------------------------------

struct Reply {
  int status = 0;  // 0: the exchange failed
  std::string body;
  std::string error;  // when status == 0
  nlohmann::json Json() const { return nlohmann::json::parse(body, nullptr, false); }
};
Reply HttpGet(uint16_t port, const std::string& target, const std::string& token, Ms timeout = Ms(10000));

// A signed PUT /v1/snapshots/{country}/{ref_date}?profile=...; status 0 if the
// connection failed or was cut (e.g. the server died).
Reply SignedUpload(uint16_t port, const std::string& country, const std::string& ref_date,
                   const std::string& query, const std::string& body, const std::string& content_type,
                   const std::string& keyid, const Keypair& key, const std::string& nonce,
                   Ms timeout = Ms(60000));
// The same with "Expect: 100-continue", as curl sends it: the body follows
// only after "100 Continue", so a refusal from the head (e.g. 503 while the
// database is locked) reaches the client instead of a broken pipe.
Reply SignedUploadExpectingContinue(uint16_t port, const std::string& country, const std::string& ref_date,
                                    const std::string& query, const std::string& body,
                                    const std::string& content_type, const std::string& keyid, const Keypair& key,
                                    const std::string& nonce, Ms timeout = Ms(60000));

// ---- Generated registers ------------------------------------------------------------

struct Generated {
  std::string path;
  int64_t rows = 0, valid = 0, expired = 0, in_stock = 0;
  int64_t bytes = 0;
};
// gwgen --profile kaz-1 --persons N --seed S --ref-date D --out PATH.
Generated GenerateKaz(const std::string& path, int64_t persons, int seed, const std::string& ref_date);

// ---- A deployment for the reliability tests --------------------------------------------

// `gateway init` in a temp dir with gateway.toml's [server] section replaced by
// `server_toml` (plus listen), a KAZ ministry key, an operator, and a consumer
// "reader" with an exact ("none") grant on KAZ so counts can be compared.
class Site {
 public:
  explicit Site(const std::string& server_toml = "", const std::string& extra_toml = "");
  const std::string& dir() const { return dir_; }
  std::string db() const { return dir_ + "/data/gateway.db"; }
  const std::string& operator_token() const { return op_; }
  const std::string& reader_token() const { return reader_; }
  const std::string& keyid() const { return keyid_; }
  const Keypair& key() const { return key_; }
  const std::string& tmp() const { return tmp_.path(); }
  // Adds a consumer and returns its token.
  std::string AddConsumer(const std::string& name, const std::string& role = "consumer");

 private:
  TempDir tmp_;
  std::string dir_, op_, reader_, keyid_;
  Keypair key_;
};

// CLI ingest of a kaz-1 file as partial.
ProcessResult IngestKaz(const std::string& dir, const std::string& file, const std::string& ref_date,
                        SpawnOptions options = {});

// ---- Reading the store directly ------------------------------------------------------

// Rows of a read-only query, each column as text ("" for NULL); throws on error.
// Opens its own connection (busy timeout 10 s, query_only), so it may run
// beside a live server.
std::vector<std::vector<std::string>> SqlRows(const std::string& db, const std::string& sql);
int64_t SqlInt(const std::string& db, const std::string& sql);

// Invariants of a store that must hold after any crash or fault; returns the
// violations found (empty: consistent):
//  * PRAGMA integrity_check (or quick_check) is ok;
//  * no half version: every snapshot row has a digest and a receipt, versions
//    of each (country, ref_date) are 1..n, the current one is the highest,
//    and no person or cell belongs to a snapshot that does not exist;
//  * every version's cells sum to its receipt's in_stock and its persons
//    number its accepted rows;
//  * each version has exactly one snapshot.commit audit entry;
//  * the budget ledger only names existing versions, and no consumer's spend
//    for a (country, ref_date) exceeds `budget_micro` (if > 0).
std::vector<std::string> StoreProblems(const std::string& db, bool full_integrity, int64_t budget_micro = 0);

// (country, ref_date, version) -> in_stock of every stored version.
std::map<std::string, int64_t> VersionsInStock(const std::string& db);

}  // namespace gw::test
