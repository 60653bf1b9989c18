// Storage faults (docs/reliability.md): a full disk (RLIMIT_FSIZE in the
// child with SIGXFSZ ignored, so writes fail with EFBIG as they would with
// ENOSPC), a read-only data directory, a database locked by another writer for
// longer than the busy timeout, and a damaged database file. Each must give a
// clear error (HTTP 503 naming the cause, or a CLI exit 1 whose message says
// what is wrong) and leave the store as it was: integrity check ok, the
// previous version intact, the audit chain verified. `gateway serve` refuses
// a damaged database and says how to restore it.
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <functional>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "support/reliability.h"

namespace gw {
namespace {

namespace fs = std::filesystem;
using test::Ms;
using Clock = std::chrono::steady_clock;
constexpr const char* kRefDate = "2023-12-31";

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool Mentions(const std::string& text, std::initializer_list<const char*> any) {
  const std::string l = Lower(text);
  return std::any_of(any.begin(), any.end(), [&](const char* w) { return l.find(w) != std::string::npos; });
}

int64_t FileSize(const std::string& path) {
  std::error_code ec;
  auto n = fs::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

// A deployment with one committed version (v1) whose cells are remembered.
struct Fixture {
  test::Site site;
  std::string v1_cells;
  test::Generated big;

  explicit Fixture(const std::string& server_toml = "threads = 2\n", const std::string& storage_toml = "")
      : site(server_toml, storage_toml) {
    auto base = test::GenerateKaz(site.tmp() + "/base.csv", 3000, 3, kRefDate);
    auto r = test::IngestKaz(site.dir(), base.path, kRefDate);
    if (r.exit_code != 0) FAIL("base ingest failed: " << r.err);
    v1_cells = Cells();
    big = test::GenerateKaz(site.tmp() + "/big.csv", 60000, 4, kRefDate);
  }

  std::string Cells() const {
    std::string out;
    for (const auto& row : test::SqlRows(site.db(), "SELECT snapshot_id, pop_type, coo, sex, age, region, count FROM "
                                                    "cells ORDER BY 1, 2, 3, 4, 5, 6")) {
      for (const auto& v : row) out += v + ",";
      out += "\n";
    }
    return out;
  }

  // Integrity, no half version, v1 intact and still the only version, the chain verified.
  void CheckUnharmed(const std::string& when, int64_t versions = 1) {
    INFO("after " << when);
    auto problems = test::StoreProblems(site.db(), true);
    for (const auto& p : problems) FAIL_CHECK(p);
    CHECK(problems.empty());
    CHECK(test::SqlInt(site.db(), "SELECT COUNT(*) FROM snapshots") == versions);
    if (versions == 1) CHECK(Cells() == v1_cells);
    auto verify = test::RunGatewayWith({"audit", "verify", "--dir", site.dir()});
    INFO(verify.err);
    CHECK(verify.exit_code == 0);
  }
};

test::Reply Upload(const Fixture& f, uint16_t port, const std::string& body) {
  return test::SignedUpload(port, "KAZ", kRefDate, "profile=kaz-1&partial=true", body, "text/csv", f.site.keyid(),
                            f.site.key(), test::NewNonce(), Ms(60000));
}

std::string ErrorMessage(const test::Reply& r) {
  auto j = r.Json();
  if (j.is_discarded() || !j.contains("error")) return r.body + r.error;
  return j["error"].value("message", "");
}

}  // namespace

TEST_CASE("reliability: a full disk gives a clear error and keeps the store", "[reliability][storage]") {
  Fixture f;
  // Room for what is there now and a little more, not for a 60 000-person snapshot.
  const int64_t limit = std::max(FileSize(f.site.db()), FileSize(f.site.db() + "-wal")) + 256 * 1024;
  test::SpawnOptions full;
  full.file_size_limit = limit;

  // The CLI: exit 1 and a message naming the disk.
  auto cli = test::IngestKaz(f.site.dir(), f.big.path, kRefDate, full);
  INFO("CLI: " << cli.err);
  CHECK(cli.exit_code == 1);
  CHECK(Mentions(cli.err, {"disk is full", "no space", "file size limit"}));
  CHECK(cli.out.find("committed") == std::string::npos);
  f.CheckUnharmed("CLI ingest on a full disk");

  // The server: the upload gets 503 naming the disk; reads keep working.
  {
    test::GatewayServer server(f.site.dir(), full);
    REQUIRE(server.started());
    auto r = Upload(f, server.port(), test::ReadFile(f.big.path));
    INFO("upload: " << r.status << " " << r.body << r.error);
    CHECK(r.status == 503);
    CHECK(Mentions(ErrorMessage(r), {"disk is full", "no space", "file size limit"}));
    CHECK(test::HttpGet(server.port(), "/healthz", "").status == 200);
    auto snaps = test::HttpGet(server.port(), "/v1/snapshots", f.site.operator_token());
    CHECK(snaps.status == 200);
    CHECK(snaps.Json()["snapshots"].size() == 1);
    CHECK(server.Terminate() == 0);
    const std::string log = server.Log();
    CHECK(Mentions(log, {"disk is full", "no space", "file size limit"}));
  }
  f.CheckUnharmed("upload on a full disk");

  // With room again, the same upload commits.
  test::GatewayServer server(f.site.dir());
  REQUIRE(server.started());
  auto r = Upload(f, server.port(), test::ReadFile(f.big.path));
  INFO(r.body << r.error);
  CHECK(r.status == 201);
  CHECK(server.Terminate() == 0);
  f.CheckUnharmed("the disk has room again", 2);
}

TEST_CASE("reliability: a read-only data directory gives a clear error", "[reliability][storage]") {
  Fixture f;
  // As root, chmod does not stop writes: run the gateway as "nobody" instead.
  test::SpawnOptions as;
  if (geteuid() == 0) {
    as.uid = 65534;
    as.gid = 65534;
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(f.site.tmp(), ec)) {
      if (lchown(e.path().c_str(), 65534, 65534) != 0) ec = std::make_error_code(std::errc::operation_not_permitted);
    }
    REQUIRE(chown(f.site.tmp().c_str(), 65534, 65534) == 0);
    auto probe = test::RunGatewayWith({"snapshots", "--dir", f.site.dir()}, as);
    if (probe.exit_code != 0) {
      WARN("SKIPPED: running as root and the gateway cannot run as uid 65534 here (" << probe.exit_code << ": "
                                                                                    << probe.err << ")");
      return;
    }
  }
  const std::string data = f.site.dir() + "/data";
  for (const auto& e : fs::directory_iterator(data)) fs::permissions(e.path(), fs::perms::owner_read | fs::perms::group_read);
  fs::permissions(data, fs::perms::owner_read | fs::perms::owner_exec);
  {
    // Is it really read-only for the gateway's user? (A capability could still write.)
    auto touch = test::RunGatewayWith({"keygen", "--out", data + "/probe"}, as);
    if (touch.exit_code == 0) {
      fs::permissions(data, fs::perms::owner_all);
      WARN("SKIPPED: the data directory stays writable after chmod (running with CAP_DAC_OVERRIDE?)");
      return;
    }
  }

  auto cli = test::IngestKaz(f.site.dir(), f.big.path, kRefDate, as);
  INFO("CLI: " << cli.err);
  CHECK(cli.exit_code == 1);
  CHECK(Mentions(cli.err, {"read-only", "readonly", "permission denied", "not writable"}));
  CHECK_FALSE(Mentions(cli.err, {"restore"}));  // nothing is damaged: no talk of backups

  auto serve = test::RunGatewayWith({"serve", "--dir", f.site.dir(), "--listen", "127.0.0.1:0"}, as, Ms(20000));
  INFO("serve: " << serve.exit_code << " " << serve.err);
  CHECK(serve.exit_code == 1);
  CHECK(Mentions(serve.err, {"read-only", "readonly", "permission denied", "not writable"}));
  CHECK_FALSE(Mentions(serve.err, {"restore"}));

  fs::permissions(data, fs::perms::owner_all);
  for (const auto& e : fs::directory_iterator(data)) {
    fs::permissions(e.path(), fs::perms::owner_read | fs::perms::owner_write);
  }
  f.CheckUnharmed("a read-only data directory");
}

TEST_CASE("reliability: a locked database gives 503 and a clear CLI error", "[reliability][storage]") {
  // A busy timeout of 2.5 s instead of the default 10 s: the setting reaches
  // both the CLI and the server, and neither gives up before it. One I/O
  // thread: the upload's head waits for the lock (its nonce is a write) on the
  // blocking pool, so /healthz is still answered meanwhile.
  Fixture f("threads = 1\n", "busy_timeout_ms = 2500\n");
  test::GatewayServer server(f.site.dir());
  REQUIRE(server.started());
  const std::string big = test::ReadFile(f.big.path);

  // Another process-like holder: a connection of our own with the write lock.
  sqlite3* holder = nullptr;
  REQUIRE(sqlite3_open_v2(f.site.db().c_str(), &holder, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_exec(holder, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
  const auto locked_at = Clock::now();

  test::ProcessResult cli;
  std::thread cli_thread([&] { cli = test::IngestKaz(f.site.dir(), f.big.path, kRefDate); });
  test::Reply upload;
  std::thread upload_thread([&] {
    upload = test::SignedUploadExpectingContinue(server.port(), "KAZ", kRefDate, "profile=kaz-1&partial=true", big,
                                                 "text/csv", f.site.keyid(), f.site.key(), test::NewNonce());
  });
  // Meanwhile: liveness and reads of the committed state.
  std::this_thread::sleep_for(Ms(500));
  auto t0 = Clock::now();
  CHECK(test::HttpGet(server.port(), "/healthz", "", Ms(2000)).status == 200);
  CHECK(Clock::now() - t0 < Ms(1000));
  auto snaps = test::HttpGet(server.port(), "/v1/snapshots", f.site.operator_token());
  CHECK(snaps.status == 200);
  cli_thread.join();
  upload_thread.join();
  const double held = std::chrono::duration<double>(Clock::now() - locked_at).count();
  sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(holder);

  INFO("CLI after " << held << " s: " << cli.exit_code << " " << cli.err);
  CHECK(held >= 2.5);
  CHECK(held < 9.0);  // the setting, not the default of 10 s
  CHECK(cli.exit_code == 1);
  CHECK(Mentions(cli.err, {"locked"}));
  INFO("upload: " << upload.status << " " << upload.body << upload.error);
  CHECK(upload.status == 503);
  CHECK(Mentions(ErrorMessage(upload), {"locked"}));
  f.CheckUnharmed("a locked database");

  // Unlocked: the upload goes through.
  auto r = Upload(f, server.port(), big);
  INFO(r.body << r.error);
  CHECK(r.status == 201);
  CHECK(server.Terminate() == 0);
  f.CheckUnharmed("the lock was released", 2);
  std::printf("storage: a lock held for %.1f s (busy_timeout_ms = 2500): CLI exit %d, upload %d\n", held, cli.exit_code,
              upload.status);
}

TEST_CASE("reliability: serve refuses a damaged database and says how to restore", "[reliability][storage]") {
  Fixture f;
  {
    // A clean stop leaves the database checkpointed, without a WAL.
    test::GatewayServer server(f.site.dir());
    REQUIRE(server.started());
    CHECK(server.Terminate() == 0);
  }
  const int64_t size = FileSize(f.site.db());
  const int page = std::stoi(test::SqlRows(f.site.db(), "PRAGMA page_size")[0][0]);
  const int64_t pages = size / page;
  REQUIRE(pages > 20);
  std::mt19937 rng(42);
  auto garbage = [&](size_t n) {
    std::string g(n, '\0');
    for (char& c : g) c = static_cast<char>(rng() & 0xff);
    return g;
  };
  struct Damage {
    std::string name;
    std::function<void(const std::string&)> apply;
  };
  const std::vector<Damage> damages = {
      {"20 pages overwritten with garbage",
       [&](const std::string& db) {
         std::fstream io(db, std::ios::in | std::ios::out | std::ios::binary);
         for (int i = 0; i < 20; ++i) {
           io.seekp(static_cast<std::streamoff>((2 + (pages - 3) * i / 20) * page));
           io << garbage(static_cast<size_t>(page));
         }
       }},
      {"the header page overwritten",
       [&](const std::string& db) {
         std::fstream io(db, std::ios::in | std::ios::out | std::ios::binary);
         io.seekp(0);
         io << garbage(static_cast<size_t>(page));
       }},
      {"truncated to half", [&](const std::string& db) { fs::resize_file(db, static_cast<uintmax_t>(size / 2)); }},
  };
  int refused = 0;
  for (const auto& d : damages) {
    test::TempDir copy;
    const std::string dir = copy.path() + "/gw";
    fs::copy(f.site.dir(), dir, fs::copy_options::recursive);
    d.apply(dir + "/data/gateway.db");
    auto serve = test::RunGatewayWith({"serve", "--dir", dir, "--listen", "127.0.0.1:0"}, {}, Ms(30000));
    INFO(d.name << ": exit " << serve.exit_code << "\n" << serve.out << serve.err);
    CHECK(serve.exit_code == 1);
    CHECK(serve.out.find("listening") == std::string::npos);
    CHECK(Mentions(serve.err, {"damaged", "integrity", "malformed", "not a database"}));
    CHECK(Mentions(serve.err, {"restore"}));
    CHECK(Mentions(serve.err, {"backup"}));
    CHECK(Mentions(serve.err, {"docs/operations.md"}));
    refused += serve.exit_code == 1 ? 1 : 0;
  }
  // The original is untouched.
  f.CheckUnharmed("copies were damaged");
  std::printf("storage: serve refused %d of %zu damaged databases with restore instructions\n", refused,
              damages.size());
}

}  // namespace gw
