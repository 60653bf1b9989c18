// Crash consistency (docs/reliability.md): SIGKILL of `gateway ingest` and of
// `gateway serve` at random points of large ingests (CLI and signed HTTP
// uploads) and of bursts of dp queries that each debit budget. After every
// kill the store must hold exactly what was committed before it:
//  * the previous current version intact (its cells unchanged), no half
//    version (StoreProblems: digests, receipts, version numbering, orphans,
//    one snapshot.commit audit entry per version), the server's view equal to
//    the tables';
//  * a receipt that reached the client means the version is there;
//  * a recorded nonce is still refused on replay;
//  * the budget ledger never exceeds a budget, /v1/budget says what the
//    ledger says, and every 200 a client got is covered by a ledger debit and
//    an audited release;
//  * `gateway audit verify` passes.
//
// GW_CRASH_KILLS (default 32) sets the number of kills; GW_CRASH_SEED
// reproduces a run's kill points.
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.h"
#include "support/reliability.h"

namespace gw {
namespace {

using test::Ms;
using Clock = std::chrono::steady_clock;

constexpr const char* kRefDate = "2023-12-31";

std::string Hex(const std::string& raw) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The cells of one stored version, as text: what "intact" is compared with.
std::string CellsOf(const std::string& db, const std::string& version_name) {
  std::string out;
  for (const auto& r : test::SqlRows(
           db, "SELECT c.pop_type, c.coo, c.sex, c.age, c.region, c.count FROM cells c JOIN snapshots s ON "
               "s.id = c.snapshot_id WHERE s.country || '/' || s.ref_date || ' v' || s.version = '" +
                   version_name + "' ORDER BY 1, 2, 3, 4, 5")) {
    for (const auto& v : r) out += v + ",";
    out += "\n";
  }
  return out;
}

struct Checker {
  explicit Checker(const test::Site& s) : site(s) {}
  const test::Site& site;
  std::map<std::string, std::string> cells;  // version name -> cells when first seen
  // A committed upload whose nonce is replayed after every kill (signed
  // afresh for the current port: the nonce, not the signature, is what repeats).
  std::string replay_target, replay_nonce;
  const std::string* replay_body = nullptr;
  int64_t budget_micro = 0;
  int checks = 0;

  std::string Current() {
    auto rows = test::SqlRows(site.db(),
                              "SELECT s.country || '/' || s.ref_date || ' v' || s.version, s.digest FROM "
                              "current_snapshots c JOIN snapshots s ON s.id = c.snapshot_id WHERE s.country = 'KAZ'");
    return rows.empty() ? "" : rows[0][0];
  }
  std::string CurrentDigest() {
    auto rows = test::SqlRows(site.db(),
                              "SELECT s.digest FROM current_snapshots c JOIN snapshots s ON s.id = c.snapshot_id "
                              "WHERE s.country = 'KAZ'");
    return rows.empty() ? "" : rows[0][0];
  }
  int64_t Versions() { return test::SqlInt(site.db(), "SELECT COUNT(*) FROM snapshots WHERE country = 'KAZ'"); }

  // Everything that must hold after a kill; `port` 0: no server to ask.
  void Check(uint16_t port, const std::string& when) {
    INFO("after " << when);
    ++checks;
    auto problems = test::StoreProblems(site.db(), false, budget_micro);
    for (const auto& p : problems) FAIL_CHECK(p);
    REQUIRE(problems.empty());
    // Every version seen before is intact; new ones are remembered.
    for (const auto& [name, in_stock] : test::VersionsInStock(site.db())) {
      std::string now = CellsOf(site.db(), name);
      auto [it, fresh] = cells.emplace(name, now);
      if (!fresh) CHECK(it->second == now);
    }
    auto verify = test::RunGatewayWith({"audit", "verify", "--dir", site.dir()});
    INFO(verify.err);
    CHECK(verify.exit_code == 0);
    if (port == 0) return;

    // The server's view: every version, committed, the newest current.
    auto list = test::HttpGet(port, "/v1/snapshots?country=KAZ", site.operator_token());
    REQUIRE(list.status == 200);
    auto snaps = list.Json()["snapshots"];
    CHECK(static_cast<int64_t>(snaps.size()) == Versions());
    int current = 0;
    for (const auto& s : snaps) {
      CHECK(s["receipt"]["status"] == "committed");
      if (s["current"].get<bool>()) {
        ++current;
        CHECK(s["version"].get<int64_t>() == static_cast<int64_t>(snaps.size()));
      }
    }
    CHECK(current == 1);
    // The current version's counts, through disclosure control (exact grant).
    auto agg = test::HttpGet(port, std::string("/v1/aggregates?ref_date=") + kRefDate + "&by=pop_type,sex",
                             site.reader_token());
    REQUIRE(agg.status == 200);
    std::map<std::string, int64_t> expected;
    for (const auto& r : test::SqlRows(site.db(),
                                       "SELECT c.pop_type || ',' || c.sex, SUM(c.count) FROM cells c JOIN "
                                       "current_snapshots k ON k.snapshot_id = c.snapshot_id WHERE k.country = "
                                       "'KAZ' GROUP BY 1")) {
      if (std::stoll(r[1]) != 0) expected[r[0]] = std::stoll(r[1]);
    }
    auto got = test::CountsByKey(agg.Json(), {"pop_type", "sex"});
    for (auto it = got.begin(); it != got.end();) it = it->second == 0 ? got.erase(it) : std::next(it);
    CHECK(got == expected);
    // A nonce recorded before the kill is still refused.
    if (replay_body != nullptr) {
      testing::HttpClient client(port, Ms(10000));
      REQUIRE(client.Connect().ok());
      auto r = client.Send("PUT", replay_target, {},
                           test::SignedUploadHeaders(port, replay_target, *replay_body, "text/csv", site.keyid(),
                                                     site.key(), replay_nonce, test::Now()));
      REQUIRE(r.ok());
      CHECK(r->status == 401);
      CHECK(r->body.find("already used") != std::string::npos);
    }
  }
};

}  // namespace

TEST_CASE("reliability: SIGKILL during ingests, uploads and dp releases keeps the store consistent",
          "[reliability][crash]") {
  const int kills = std::max(3, EnvInt("GW_CRASH_KILLS", 32));
  const int cli_kills = kills * 3 / 8, http_kills = kills * 3 / 8, budget_kills = kills - cli_kills - http_kills;
  const unsigned seed = static_cast<unsigned>(EnvInt("GW_CRASH_SEED", static_cast<int>(std::random_device{}())));
  std::mt19937 rng(seed);
  std::printf("crash: seed %u (GW_CRASH_SEED), %d kills planned: %d CLI ingest, %d serve during upload, %d serve "
              "during dp bursts\n",
              seed, kills, cli_kills, http_kills, budget_kills);
  const auto started = Clock::now();

  // Ten dp consumers, each with its own budget of 10 tables (0.1 each).
  std::string policy;
  for (int i = 0; i < 10; ++i) {
    policy += "[[grant]]\ncountry = \"KAZ\"\nconsumer = \"dp" + std::to_string(i) +
              "\"\npop_types = [\"REF\", \"ASY\", \"STA\", \"MIG\"]\n"
              "dimensions = [\"coa\", \"coo\", \"pop_type\", \"sex\", \"age\", \"region\"]\n"
              "mechanism = \"dp\"\nepsilon = 0.1\nbudget = 1.0\nthreshold = 5\n\n";
  }
  test::Site site("threads = 2\n");
  std::vector<std::string> dp_tokens;
  for (int i = 0; i < 10; ++i) dp_tokens.push_back(site.AddConsumer("dp" + std::to_string(i)));
  test::WriteFile(site.dir() + "/policies/dp.toml", policy);

  const auto base = test::GenerateKaz(site.tmp() + "/base.csv", 3000, 7, kRefDate);
  const int64_t persons = EnvInt("GW_CRASH_PERSONS", 60000);
  const test::Generated files[2] = {test::GenerateKaz(site.tmp() + "/a.csv", persons, 1, kRefDate),
                                    test::GenerateKaz(site.tmp() + "/b.csv", persons, 2, kRefDate)};
  std::string digests[2], bodies[2];
  for (int i = 0; i < 2; ++i) {
    bodies[i] = test::ReadFile(files[i].path);
    digests[i] = "sha256:" + Hex(test::Sha256(bodies[i]));
  }
  Checker checker{site};
  checker.budget_micro = 1000000;

  // v1: the base file. Then calibrate: a full CLI ingest of A, a full upload of B.
  REQUIRE(test::IngestKaz(site.dir(), base.path, kRefDate).exit_code == 0);
  auto t0 = Clock::now();
  auto first = test::IngestKaz(site.dir(), files[0].path, kRefDate);
  REQUIRE(first.exit_code == 0);
  const double cli_seconds = Seconds(Clock::now() - t0);
  auto server = std::make_unique<test::GatewayServer>(site.dir());
  REQUIRE(server->started());
  {
    const std::string nonce = test::NewNonce();
    const std::string target = std::string("/v1/snapshots/KAZ/") + kRefDate + "?profile=kaz-1&partial=true";
    t0 = Clock::now();
    auto r = test::SignedUpload(server->port(), "KAZ", kRefDate, "profile=kaz-1&partial=true", bodies[1], "text/csv",
                                site.keyid(), site.key(), nonce);
    INFO(r.body << r.error);
    REQUIRE(r.status == 201);
    CHECK(r.Json()["in_stock"] == files[1].in_stock);
    checker.replay_target = target;
    checker.replay_nonce = nonce;
    checker.replay_body = &bodies[1];
  }
  const double http_seconds = Seconds(Clock::now() - t0);
  std::printf("crash: %lld persons per file (%.1f MB); a full CLI ingest takes %.2f s, a signed upload %.2f s\n",
              static_cast<long long>(persons), static_cast<double>(files[0].bytes) / 1e6, cli_seconds, http_seconds);
  checker.Check(server->port(), "calibration");

  // The file that would make a new version now.
  auto next_file = [&] { return checker.CurrentDigest() == digests[0] ? 1 : 0; };
  int mid_kills = 0, completed_before_kill = 0, receipts_then_kill = 0;

  // 1. SIGKILL of `gateway ingest` while the server runs beside it.
  for (int trial = 0; trial < cli_kills; ++trial) {
    const int f = next_file();
    const int64_t before = checker.Versions();
    const std::string current = checker.Current();
    std::uniform_real_distribution<double> at(0.02, 1.1 * cli_seconds);
    const double delay = at(rng);
    test::Child ingest({GW_GATEWAY_BIN, "ingest", "--dir", site.dir(), "--country", "KAZ", "--ref-date", kRefDate,
                        "--profile", "kaz-1", "--partial", files[f].path},
                       test::SpawnOptions{});
    auto exited = ingest.Wait(Ms(static_cast<int64_t>(delay * 1000)));
    if (!exited) {
      ingest.Signal(SIGKILL);
      exited = ingest.Wait(Ms(10000));
      ++mid_kills;
    } else {
      ++completed_before_kill;
    }
    const int64_t after = checker.Versions();
    INFO("CLI trial " << trial << " killed at " << delay << " s, exit " << exited.value_or(-1));
    checker.Check(server->port(), "CLI kill " + std::to_string(trial));
    if (exited == 0) {
      CHECK(after == before + 1);  // a receipt was printed: the version is durable
    } else {
      CHECK((after == before || after == before + 1));
      if (after == before) CHECK(checker.Current() == current);
    }
  }

  // 2. SIGKILL of `gateway serve` during a signed upload.
  for (int trial = 0; trial < http_kills; ++trial) {
    const int f = next_file();
    const int64_t before = checker.Versions();
    const std::string current = checker.Current();
    std::uniform_real_distribution<double> at(0.02, 1.1 * http_seconds);
    const double delay = at(rng);
    const std::string nonce = test::NewNonce();
    const std::string target = std::string("/v1/snapshots/KAZ/") + kRefDate + "?profile=kaz-1&partial=true";
    const uint16_t port = server->port();
    test::Reply reply;
    std::thread client([&] {
      reply = test::SignedUpload(port, "KAZ", kRefDate, "profile=kaz-1&partial=true", bodies[f], "text/csv",
                                 site.keyid(), site.key(), nonce);
    });
    std::this_thread::sleep_for(Ms(static_cast<int64_t>(delay * 1000)));
    server->Kill();
    client.join();
    if (reply.status != 0) ++receipts_then_kill; else ++mid_kills;
    server = std::make_unique<test::GatewayServer>(site.dir());
    INFO("upload trial " << trial << " killed at " << delay << " s; client got " << reply.status << " "
                         << reply.error << "\n" << server->Log().substr(0, 2000));
    REQUIRE(server->started());
    const int64_t after = checker.Versions();
    checker.Check(server->port(), "serve kill " + std::to_string(trial));
    if (reply.status == 201) {
      CHECK(after == before + 1);
    } else {
      CHECK((after == before || after == before + 1));
      if (after == before) CHECK(checker.Current() == current);
    }
    // This trial's nonce: refused if the server had recorded it.
    const bool recorded =
        test::SqlInt(site.db(), "SELECT COUNT(*) FROM nonces WHERE nonce = '" + nonce + "'") == 1;
    testing::HttpClient replay(server->port(), Ms(10000));
    REQUIRE(replay.Connect().ok());
    auto r = replay.Send("PUT", target, {},
                         test::SignedUploadHeaders(server->port(), target, bodies[f], "text/csv", site.keyid(),
                                                   site.key(), nonce, test::Now()));
    REQUIRE(r.ok());
    if (recorded) {
      CHECK(r->status == 401);
      CHECK(r->body.find("already used") != std::string::npos);
    }
    CHECK(r->status != 201);
  }

  // 3. SIGKILL of `gateway serve` during a burst of dp queries, each a new table.
  const std::vector<std::string> dims = {"coo", "sex", "age", "region"};
  std::vector<std::string> tables;  // pop_type plus every subset of the others: 16 tables
  for (int mask = 0; mask < 16; ++mask) {
    std::string by = "pop_type";
    for (int d = 0; d < 4; ++d)
      if (mask & (1 << d)) by += "," + dims[d];
    tables.push_back(by);
  }
  int64_t ok_total = 0;
  for (int trial = 0; trial < budget_kills; ++trial) {
    const std::string& token = dp_tokens[static_cast<size_t>(trial) % dp_tokens.size()];
    const std::string consumer = "dp" + std::to_string(trial % static_cast<int>(dp_tokens.size()));
    const uint16_t port = server->port();
    std::atomic<size_t> next{0};
    std::atomic<int64_t> ok{0}, refused{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 4; ++c) {
      clients.emplace_back([&] {
        for (size_t i = next++; i < tables.size(); i = next++) {
          auto r = test::HttpGet(port, std::string("/v1/aggregates?ref_date=") + kRefDate + "&by=" + tables[i],
                                 token, Ms(10000));
          if (r.status == 200) ++ok;
          else if (r.status == 429) ++refused;
          else if (r.status == 0) return;  // the server is gone
        }
      });
    }
    std::uniform_int_distribution<int> at(10, 400);
    const int delay = at(rng);
    std::this_thread::sleep_for(Ms(delay));
    server->Kill();
    for (auto& t : clients) t.join();
    ++mid_kills;
    ok_total += ok;
    server = std::make_unique<test::GatewayServer>(site.dir());
    INFO("dp trial " << trial << " killed after " << delay << " ms; " << ok << " answered, " << refused
                     << " refused");
    REQUIRE(server->started());
    checker.Check(server->port(), "dp kill " + std::to_string(trial));
    const int64_t ledger_rows =
        test::SqlInt(site.db(), "SELECT COUNT(*) FROM budget_ledger WHERE consumer = '" + consumer + "'");
    const int64_t ledger_micro = test::SqlInt(
        site.db(), "SELECT COALESCE(SUM(epsilon_micro), 0) FROM budget_ledger WHERE consumer = '" + consumer + "'");
    const int64_t audited = test::SqlInt(site.db(), "SELECT COUNT(*) FROM audit WHERE kind = 'aggregate.release' AND "
                                                    "actor = '" + consumer + "'");
    CHECK(ledger_micro == ledger_rows * 100000);
    CHECK(ledger_micro <= 1000000);
    CHECK(ok.load() <= ledger_rows);  // every answer was paid for ...
    CHECK(ok.load() <= audited);      // ... and audited before it left
    CHECK(audited <= ledger_rows);    // an audited dp release was debited first
    auto budget = test::HttpGet(server->port(), "/v1/budget", token);
    REQUIRE(budget.status == 200);
    auto items = budget.Json()["budgets"];
    REQUIRE(items.size() == 1);
    CHECK(std::llround(items[0]["spent"].get<double>() * 1e6) == ledger_micro);
    CHECK(items[0]["tables_released"].get<int64_t>() == ledger_rows);
    CHECK(std::llround(items[0]["remaining"].get<double>() * 1e6) == 1000000 - ledger_micro);
  }

  // The end: a full integrity check, and the server stops cleanly.
  auto problems = test::StoreProblems(site.db(), true, checker.budget_micro);
  for (const auto& p : problems) FAIL_CHECK(p);
  CHECK(problems.empty());
  CHECK(server->Terminate() == 0);
  std::printf("crash: %d kills in %.1f s: %d mid-operation, %d ingests completed before their kill point, %d "
              "uploads answered before the kill; %d consistency checks, %zu versions checked intact, %lld dp "
              "answers all covered by ledger and audit\n",
              cli_kills + http_kills + budget_kills, Seconds(Clock::now() - started), mid_kills,
              completed_before_kill, receipts_then_kill, checker.checks, checker.cells.size(),
              static_cast<long long>(ok_total));
  std::fflush(stdout);
}

}  // namespace gw
