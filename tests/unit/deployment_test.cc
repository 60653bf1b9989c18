#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "gateway/deployment.h"
#include "support/test_deployment.h"

namespace gw {

TEST_CASE("init creates folders, secret keys with mode 0600, settings and a database", "[deployment]") {
  test::TempDir tmp;
  std::string dir = tmp.path() + "/gw";
  REQUIRE(Deployment::Init(dir).ok());
  for (const char* c : {"KAZ", "KGZ", "TJK", "TKM", "UZB"}) {
    struct stat st {};
    std::string key = dir + "/keys/pseudonym-" + std::string(c) + ".key";
    REQUIRE(stat(key.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
  CHECK(std::filesystem::exists(dir + "/gateway.toml"));
  CHECK(std::filesystem::exists(dir + "/data/gateway.db"));
  CHECK(Deployment::Init(dir).code() == Code::kConflict);
  auto d = Deployment::Open(dir);
  REQUIRE(d.ok());
  CHECK((*d)->config().listen_port == 8080);
  CHECK((*d)->keys().PseudonymiserFor("KAZ").ok());

  chmod((dir + "/keys/pseudonym-KGZ.key").c_str(), 0644);
  auto loose = (*d)->keys().PseudonymiserFor("KGZ");
  REQUIRE_FALSE(loose.ok());
  CHECK(loose.status().message().find("chmod 600") != std::string::npos);
}

// What the read-ahead must not break (SQLite's locks) only shows across
// processes: the SIGKILL reliability test, which starts gateway serve, is the
// guard for that. This checks that such a deployment is otherwise the same.
TEST_CASE("a deployment opened with its database read ahead opens, checks and audits as usual",
          "[deployment]") {
  test::TempDir tmp;
  std::string dir = tmp.path() + "/gw";
  REQUIRE(Deployment::Init(dir).ok());
  auto d = Deployment::Open(dir, {.read_database_ahead = true});
  REQUIRE(d.ok());
  CHECK((*d)->store().CheckIntegrity().ok());
  REQUIRE((*d)->store().AppendAudit("test.entry", "test", "{}").ok());
  auto verified = (*d)->store().VerifyAudit();
  REQUIRE(verified.ok());
  CHECK(verified->ok);
  CHECK(verified->entries >= 1);
}

TEST_CASE("settings are validated with the key named", "[deployment]") {
  auto ok = ParseConfig("[server]\nlisten = \"0.0.0.0:9000\"\nthreads = 2\n", "gateway.toml");
  REQUIRE(ok.ok());
  CHECK(ok->listen_host == "0.0.0.0");
  CHECK(ok->listen_port == 9000);
  CHECK(ok->threads == 2);
  auto bad = ParseConfig("[server]\nmax_body_bytes = 5\n", "gateway.toml");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("server.max_body_bytes") != std::string::npos);
  CHECK_FALSE(ParseConfig("[server]\nlisten = \"nohost\"\n", "g").ok());
  CHECK_FALSE(ParseConfig("[server]\nlisten = \"h:99999\"\n", "g").ok());
  CHECK_FALSE(ParseConfig("[server]\ncolour = 1\n", "g").ok());
  CHECK_FALSE(ParseConfig("[other]\n", "g").ok());
  // The store's busy timeout and the shutdown bound: defaults, settings, limits.
  CHECK(ok->busy_timeout == std::chrono::milliseconds(10000));
  CHECK(ok->shutdown_timeout == std::chrono::milliseconds(5000));
  auto timeouts = ParseConfig("[server]\nshutdown_timeout_ms = 750\n[storage]\nbusy_timeout_ms = 0\n", "g");
  REQUIRE(timeouts.ok());
  CHECK(timeouts->shutdown_timeout == std::chrono::milliseconds(750));
  CHECK(timeouts->busy_timeout == std::chrono::milliseconds(0));
  auto long_busy = ParseConfig("[storage]\nbusy_timeout_ms = 3600001\n", "gateway.toml");
  REQUIRE_FALSE(long_busy.ok());
  CHECK(long_busy.status().message().find("storage.busy_timeout_ms") != std::string::npos);
  auto short_stop = ParseConfig("[server]\nshutdown_timeout_ms = 5\n", "gateway.toml");
  REQUIRE_FALSE(short_stop.ok());
  CHECK(short_stop.status().message().find("server.shutdown_timeout_ms") != std::string::npos);
  auto unknown = ParseConfig("[storage]\nbusy_timeout = 5\n", "gateway.toml");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message().find("storage.busy_timeout") != std::string::npos);
  std::string host;
  uint16_t port = 0;
  REQUIRE(ParseListen("[::1]:0", host, port).ok());
  CHECK(host == "::1");
  CHECK(port == 0);
  CHECK(Deployment::Open("/nonexistent/gw").status().code() == Code::kNotFound);
}

}  // namespace gw

namespace gw {

TEST_CASE("the dp noise key is created once and never silently replaced", "[deployment][dp]") {
  test::TempDir tmp;
  const std::string dir = tmp.path() + "/gw";
  REQUIRE(Deployment::Init(dir).ok());
  const std::string key = dir + "/keys/dp-noise.key";
  REQUIRE(std::filesystem::exists(key));
  // An older deployment without the key gets one while nothing was released...
  std::filesystem::remove(key);
  {
    auto d = Deployment::Open(dir);
    REQUIRE(d.ok());
    CHECK(std::filesystem::exists(key));
    REQUIRE((*d)->disclosure_settings().ok());
    auto charged = (*d)->store().ChargeBudget(
        "unhcr", {BudgetCharge{"KAZ", "2015-06-30", 1, {"coo"}, 500000, 2000000, 0}});
    REQUIRE(charged.ok());
  }
  // ...but once the ledger has releases, a lost key is an error that says how to recover.
  std::filesystem::remove(key);
  auto d = Deployment::Open(dir);
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message().find("dp-noise.key is missing") != std::string::npos);
  CHECK(d.status().message().find("restore") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(key));
}

TEST_CASE("[privacy] settings in gateway.toml", "[deployment]") {
  auto c = ParseConfig("[privacy]\nsnapshot_epsilon_cap = 2.5\ndp_max_cells = 5000\n", "gateway.toml");
  REQUIRE(c.ok());
  CHECK(c->snapshot_epsilon_cap_micro == 2500000);
  CHECK(c->dp_max_cells == 5000);
  auto bad = ParseConfig("[privacy]\nsnapshot_epsilon_cap = -1\n", "gateway.toml");
  CHECK(bad.status().message().find("privacy.snapshot_epsilon_cap") != std::string::npos);
  auto unknown = ParseConfig("[privacy]\nepsilon = 1\n", "gateway.toml");
  CHECK(unknown.status().message().find("privacy.epsilon") != std::string::npos);
  auto zero_cells = ParseConfig("[privacy]\ndp_max_cells = 0\n", "gateway.toml");
  REQUIRE_FALSE(zero_cells.ok());
  CHECK(zero_cells.status().message().find("privacy.dp_max_cells\" must be a whole number from 1 to 100000000") !=
        std::string::npos);
  auto text_cells = ParseConfig("[privacy]\ndp_max_cells = \"5000\"\n", "gateway.toml");
  REQUIRE_FALSE(text_cells.ok());
  CHECK(text_cells.status().message().find("privacy.dp_max_cells") != std::string::npos);
}

TEST_CASE("a section that is not a table is refused with its name", "[deployment]") {
  for (const char* section : {"server", "storage", "privacy"}) {
    auto r = ParseConfig(std::string(section) + " = 5\n", "gateway.toml");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find(std::string("key \"") + section + "\" must be a table") != std::string::npos);
  }
}

}  // namespace gw
