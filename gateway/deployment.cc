#include "gateway/deployment.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

#include "gateway/privacy/toml_decimal.h"
#include "gateway/storage/page_cache.h"

namespace gw {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultConfig = R"(# Gateway settings. Every limit has a sane default; change what you need.

[server]
listen = "127.0.0.1:8080"     # HOST:PORT; port 0 lets the OS choose
threads = 0                   # 0: automatic, one per CPU core (they never wait for the disk)
blocking_threads = 0          # 0: automatic, 8 per CPU core (handlers that read or write the database)
max_body_bytes = 1048576      # larger request bodies get 413 (queries, admin)
max_upload_bytes = 21474836480  # a signed snapshot upload (PUT /v1/snapshots/...)
# public_url = "https://gateway.example.org"  # what ministries sign; default http:// + Host
max_header_bytes = 16384
max_connections = 1024
header_timeout_ms = 10000     # the request head must arrive within this time
body_timeout_ms = 60000
idle_timeout_ms = 30000       # keep-alive connections idle longer are closed
write_timeout_ms = 30000      # a client that does not read its response is dropped
max_query_params = 64         # more query parameters get 400
shutdown_timeout_ms = 5000    # on SIGTERM, requests in flight get this long to finish

[storage]
database = "data/gateway.db"  # relative to the deployment directory
busy_timeout_ms = 10000       # a write waits this long for another writer (a CLI ingest), then 503

[privacy]
# snapshot_epsilon_cap = 20.0  # all consumers together, per country and reference date
dp_max_cells = 1000000        # larger dp tables must be narrowed with filters
)";

constexpr const char* kPolicyReadme = R"(# Sharing policies: one [[grant]] table per grant (country -> consumer).
# Nothing is shared until a grant says so. See docs/privacy.md.
#
# [[grant]]
# country    = "KAZ"
# consumer   = "unhcr"
# pop_types  = ["REF", "ASY", "STA"]
# dimensions = ["coa", "coo", "pop_type", "sex", "age"]
# mechanism  = "sdc"
# threshold  = 5
)";

Status WriteNewFile(const std::string& path, const std::string& text) {
  if (fs::exists(path)) return Status::Ok();
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) return Status::IoError("cannot write " + path);
  return Status::Ok();
}

}  // namespace

Status ParseListen(const std::string& text, std::string& host, uint16_t& port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return Status::InvalidArgument("listen address \"" + text + "\" must be HOST:PORT");
  }
  std::string h = text.substr(0, colon), p = text.substr(colon + 1);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  int value = 0;
  for (char c : p) {
    if (c < '0' || c > '9' || value > 65535) {
      return Status::InvalidArgument("listen address \"" + text + "\": bad port");
    }
    value = value * 10 + (c - '0');
  }
  if (value > 65535) return Status::InvalidArgument("listen address \"" + text + "\": bad port");
  host = h;
  port = static_cast<uint16_t>(value);
  return Status::Ok();
}

Result<DeploymentConfig> ParseConfig(const std::string& text, const std::string& file) {
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << file << ":" << e.source().begin.line << ": " << e.description();
    return Status::InvalidArgument(os.str());
  }
  DeploymentConfig c;
  auto bad = [&](const std::string& key, const std::string& what) {
    return Status::InvalidArgument(file + ": key \"" + key + "\" " + what);
  };
  if (auto listen = root["server"]["listen"]) {
    auto s = listen.value<std::string>();
    if (!s) return bad("server.listen", "must be a string HOST:PORT");
    GW_RETURN_IF_ERROR(ParseListen(*s, c.listen_host, c.listen_port).WithContext(file));
  }
  // Every whole-number setting, with its section and bounds; one check for all.
  struct IntKey {
    const char* section;
    const char* name;
    int64_t min, max;
    std::function<void(int64_t)> set;
  };
  auto ms = [](int64_t v) { return std::chrono::milliseconds(v); };
  const IntKey int_keys[] = {
      {"server", "threads", 0, 256, [&](int64_t v) { c.threads = static_cast<int>(v); }},
      {"server", "blocking_threads", 0, 256, [&](int64_t v) { c.blocking_threads = static_cast<int>(v); }},
      {"server", "max_body_bytes", 1024, int64_t{1} << 40, [&](int64_t v) { c.max_body_bytes = static_cast<size_t>(v); }},
      {"server", "max_upload_bytes", 1024, int64_t{1} << 44,
       [&](int64_t v) { c.max_upload_bytes = static_cast<size_t>(v); }},
      {"server", "max_header_bytes", 1024, 1 << 20, [&](int64_t v) { c.max_header_bytes = static_cast<size_t>(v); }},
      {"server", "max_connections", 1, 1 << 20, [&](int64_t v) { c.max_connections = static_cast<size_t>(v); }},
      {"server", "header_timeout_ms", 100, 3600000, [&](int64_t v) { c.header_timeout = ms(v); }},
      {"server", "body_timeout_ms", 100, 3600000, [&](int64_t v) { c.body_timeout = ms(v); }},
      {"server", "idle_timeout_ms", 100, 3600000, [&](int64_t v) { c.idle_timeout = ms(v); }},
      {"server", "write_timeout_ms", 100, 3600000, [&](int64_t v) { c.write_timeout = ms(v); }},
      {"server", "max_query_params", 1, 10000, [&](int64_t v) { c.max_query_params = static_cast<size_t>(v); }},
      {"server", "shutdown_timeout_ms", 100, 3600000, [&](int64_t v) { c.shutdown_timeout = ms(v); }},
      {"storage", "busy_timeout_ms", 0, 3600000, [&](int64_t v) { c.busy_timeout = ms(v); }},
      {"privacy", "dp_max_cells", 1, 100000000, [&](int64_t v) { c.dp_max_cells = v; }},
  };
  // The other settings, each read on its own below.
  const std::string other_keys[] = {"server.listen", "server.public_url", "storage.database",
                                    "privacy.snapshot_epsilon_cap"};
  for (const char* section : {"server", "storage", "privacy"}) {
    const toml::node* node = root.get(section);
    if (node == nullptr) continue;
    const toml::table* table = node->as_table();
    if (table == nullptr) return bad(section, "must be a table");
    for (const auto& [k, v] : *table) {
      const std::string key = std::string(section) + "." + std::string(k.str());
      if (std::find(std::begin(other_keys), std::end(other_keys), key) != std::end(other_keys)) continue;
      const IntKey* spec = nullptr;
      for (const IntKey& ik : int_keys) {
        if (key == std::string(ik.section) + "." + ik.name) spec = &ik;
      }
      if (spec == nullptr) return bad(key, "is unknown");
      auto value = v.value<int64_t>();
      if (!v.is_integer() || !value || *value < spec->min || *value > spec->max) {
        return bad(key, "must be a whole number from " + std::to_string(spec->min) + " to " +
                            std::to_string(spec->max));
      }
      spec->set(*value);
    }
  }
  if (auto db = root["storage"]["database"]) {
    auto s = db.value<std::string>();
    if (!s || s->empty()) return bad("storage.database", "must be a file path");
    c.database = *s;
  }
  if (auto url = root["server"]["public_url"]) {
    auto s = url.value<std::string>();
    if (!s || (s->rfind("http://", 0) != 0 && s->rfind("https://", 0) != 0) || s->back() == '/') {
      return bad("server.public_url", "must be http(s)://host[:port] without a trailing slash");
    }
    c.public_url = *s;
  }
  if (const toml::node* cap = root["privacy"]["snapshot_epsilon_cap"].node()) {
    auto micro = MicroFromToml(*cap);
    if (!micro || *micro < 0) {
      return bad("privacy.snapshot_epsilon_cap", "must be a non-negative number with at most 6 decimals");
    }
    c.snapshot_epsilon_cap_micro = *micro;
  }
  for (const auto& [k, v] : root) {
    if (k.str() != "server" && k.str() != "storage" && k.str() != "privacy") {
      return Status::InvalidArgument(file + ": unknown section \"" + std::string(k.str()) + "\"");
    }
  }
  return c;
}

Status Deployment::Init(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create " + dir + ": " + ec.message());
  const std::string config = dir + "/gateway.toml";
  if (fs::exists(config)) {
    return Status::Conflict(dir + " is already a gateway deployment (it has gateway.toml)");
  }
  for (const char* sub : {"policies", "data"}) {
    fs::create_directories(dir + "/" + sub, ec);
    if (ec) return Status::IoError("cannot create " + dir + "/" + sub + ": " + ec.message());
  }
  fs::permissions(dir + "/data", fs::perms::owner_all, ec);
  KeyRing keys(dir + "/keys");
  GW_RETURN_IF_ERROR(keys.CreateMissing(kReportingCountries));
  GW_RETURN_IF_ERROR(WriteNewFile(dir + "/policies/README.toml", kPolicyReadme));
  GW_ASSIGN_OR_RETURN(auto parsed, ParseConfig(kDefaultConfig, "gateway.toml"));
  GW_ASSIGN_OR_RETURN(auto store, Store::Open(dir + "/" + parsed.database, true));
  // Written last: its presence marks a complete deployment.
  return WriteNewFile(config, kDefaultConfig);
}

Result<std::unique_ptr<Deployment>> Deployment::Open(const std::string& dir, OpenOptions options) {
  const std::string config_path = dir + "/gateway.toml";
  std::ifstream in(config_path);
  if (!in) {
    return Status::NotFound(dir + " is not a gateway deployment (no gateway.toml); run gateway init " + dir);
  }
  std::stringstream text;
  text << in.rdbuf();
  GW_ASSIGN_OR_RETURN(DeploymentConfig config, ParseConfig(text.str(), config_path));
  std::unique_ptr<Deployment> d(new Deployment(dir, config));
  std::string db = config.database.front() == '/' ? config.database : dir + "/" + config.database;
  if (!fs::exists(db)) {
    return Status::NotFound("database " + db + " is missing; restore it from a backup "
                            "(see docs/operations.md) or run gateway init in a new directory");
  }
  if (options.read_database_ahead) ReadDatabaseAhead(db);  // before SQLite holds locks on it
  auto store = Store::Open(db, false, config.busy_timeout);
  if (!store.ok()) {
    // Only damage calls for a restore; a read-only, full or locked store does not.
    if (store.status().code() == Code::kCorruption) {
      return store.status().WithContext("cannot open the store: " + db + " is damaged; restore it from a backup "
                                        "as docs/operations.md explains");
    }
    return store.status().WithContext("cannot open the store " + db);
  }
  d->store_ = std::move(store).value();
  // Noise is a function of keys/dp-noise.key: a new key would give repeated
  // questions fresh noise at no cost. Create it only while nothing was released.
  if (!d->keys_.Has(KeyRing::kNoiseKeyFile)) {
    GW_ASSIGN_OR_RETURN(bool released, d->store_->HasBudgetEntries());
    if (released) {
      return Status::Unavailable(
          dir + "/keys/" + KeyRing::kNoiseKeyFile + " is missing but the budget ledger has "
          "releases made with it; restore the key from the backup of keys/ (see "
          "docs/operations.md). A new key would let consumers average fresh noise away.");
    }
    GW_RETURN_IF_ERROR(d->keys_.CreateMissing({}));
  }
  return d;
}

Result<DisclosureSettings> Deployment::disclosure_settings() {
  DisclosureSettings settings;
  GW_ASSIGN_OR_RETURN(settings.noise_master, keys_.NoiseMasterKey());
  settings.dp_max_cells = config_.dp_max_cells;
  return settings;
}

}  // namespace gw
