// Deployment: one gateway installation in a directory.
//
//   DIR/gateway.toml        settings (listen address, limits, database path)
//   DIR/keys/               secret keys, mode 0700/0600 (see crypto/key_ring.h)
//   DIR/policies/*.toml     sharing policies ([[grant]] tables)
//   DIR/data/gateway.db     the SQLite store (WAL)
//
// Thread-safety: the accessors return thread-safe components.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "gateway/common/status.h"
#include "gateway/crypto/key_ring.h"
#include "gateway/privacy/disclosure.h"
#include "gateway/privacy/policy.h"
#include "gateway/storage/store.h"

namespace gw {

// The five reporting countries of the exchange.
inline const std::vector<std::string> kReportingCountries = {"KAZ", "KGZ", "TJK", "TKM", "UZB"};

struct DeploymentConfig {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8080;
  int threads = 0;           // I/O threads; 0: one per core
  int blocking_threads = 0;  // handlers that use the database; 0: 8 per core, at least 8, at most 64
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 16 * 1024;
  size_t max_connections = 1024;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{60000};
  std::chrono::milliseconds idle_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  size_t max_query_params = 64;
  std::string database = "data/gateway.db";  // relative to DIR
  // [storage]: how long a write waits for another writer's lock.
  std::chrono::milliseconds busy_timeout = sql::Connection::kDefaultBusyTimeout;
  // [server]: how long a stopping server lets requests in flight finish.
  std::chrono::milliseconds shutdown_timeout{5000};
  // The scheme and authority clients use to reach the gateway (e.g.
  // "https://gateway.example.org" behind a TLS proxy); signed uploads cover
  // the target URI, so the server must know it. Empty: "http://" + Host.
  std::string public_url;
  size_t max_upload_bytes = size_t{20} << 30;  // per signed upload
  // [privacy]: epsilon all consumers together may spend on one country's
  // snapshots of one reference date (micro-epsilon; 0: no global cap).
  int64_t snapshot_epsilon_cap_micro = 0;
  // [privacy]: the most cells one country's dp table may have (its domain,
  // zero cells included, since dp releases noise for every cell).
  int64_t dp_max_cells = 1000000;
};

// Parses "HOST:PORT" ("[::1]:8080" for IPv6).
Status ParseListen(const std::string& text, std::string& host, uint16_t& port);
// Parses gateway.toml text; errors name the file and key.
Result<DeploymentConfig> ParseConfig(const std::string& text, const std::string& file);

class Deployment {
 public:
  // Creates a new deployment in `dir` (which may exist but must not hold a
  // gateway.toml yet): folders, keys, default settings, an empty database.
  static Status Init(const std::string& dir);
  struct OpenOptions {
    // Read the database and its WAL in order into the page cache before
    // SQLite opens them (storage/page_cache.h), as far as half the available
    // memory: gateway serve's integrity check then finds its pages there.
    // Only where this process has no other connection to the database: the
    // read closes a descriptor of the file, which drops every POSIX lock the
    // process holds on it, SQLite's included.
    bool read_database_ahead = false;
  };
  // Opens an existing deployment and its database. Policies are not loaded
  // here (a server loads them with policies().Reload(), which may fail).
  static Result<std::unique_ptr<Deployment>> Open(const std::string& dir, OpenOptions options);
  // (An overload, not a default argument: a nested struct's member
  // initialisers cannot be used for one before the enclosing class is complete.)
  static Result<std::unique_ptr<Deployment>> Open(const std::string& dir) {
    return Open(dir, OpenOptions{});
  }

  const std::string& dir() const { return dir_; }
  const DeploymentConfig& config() const { return config_; }
  Store& store() { return *store_; }
  KeyRing& keys() { return keys_; }
  PolicyStore& policies() { return policies_; }
  // Disclosure settings from gateway.toml and keys/dp-noise.key.
  Result<DisclosureSettings> disclosure_settings();

 private:
  Deployment(std::string dir, DeploymentConfig config)
      : dir_(std::move(dir)), config_(std::move(config)), keys_(dir_ + "/keys"),
        policies_(dir_ + "/policies") {}
  std::string dir_;
  DeploymentConfig config_;
  KeyRing keys_;
  PolicyStore policies_;
  std::unique_ptr<Store> store_;
};

}  // namespace gw
