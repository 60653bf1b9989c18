// Soak (docs/reliability.md): a bounded load of mixed queries from several
// keep-alive clients and signed uploads against the real `gateway serve`,
// sampling its RSS (/proc/PID/status VmRSS) and open descriptors
// (/proc/PID/fd) every second; both must stay flat. Then SIGTERM while
// uploads are in flight: the server exits 0 within a bound and every upload
// either completed (the client has its receipt and the version is stored) or
// left nothing behind (no half version; the audit chain verifies).
//
// GW_SOAK_SECONDS sets the load's duration (default 30).
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "support/http_client.h"
#include "support/reliability.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GW_SANITIZED 1
#else
#define GW_SANITIZED 0
#endif

namespace gw {
namespace {

using test::Ms;
using Clock = std::chrono::steady_clock;
constexpr const char* kRefDate = "2023-12-31";

struct Sample {
  double t;
  int64_t rss_kb;
  int fds;
  int64_t wal_bytes;
  int64_t store_bytes;  // gateway.db + gateway.db-wal
};

int64_t FileSize(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

// The head of a signed PUT of `body` (request line, headers, blank line), for
// tests that send the body themselves, slowly or not at all.
std::string SignedPutHead(const test::Site& site, uint16_t port, const std::string& target, const std::string& body) {
  std::string head = "PUT " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                     "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  for (const auto& [k, v] : test::SignedUploadHeaders(port, target, body, "text/csv", site.keyid(), site.key(),
                                                      test::NewNonce(), test::Now())) {
    head += k + ": " + v + "\r\n";
  }
  return head + "\r\n";
}

}  // namespace

TEST_CASE("reliability: soak under mixed load, then SIGTERM with uploads in flight", "[reliability][soak]") {
  const char* env = std::getenv("GW_SOAK_SECONDS");
  const int seconds = std::max(6, env && *env ? std::atoi(env) : 30);
  test::RaiseFdLimit(4096);
  test::Site site("threads = 2\n");
  const std::string ref = kRefDate;
  test::Generated uploads[2] = {test::GenerateKaz(site.tmp() + "/u1.csv", 5000, 11, ref),
                                test::GenerateKaz(site.tmp() + "/u2.csv", 5000, 12, ref)};
  const std::string bodies[2] = {test::ReadFile(uploads[0].path), test::ReadFile(uploads[1].path)};
  REQUIRE(test::IngestKaz(site.dir(), test::GenerateKaz(site.tmp() + "/base.csv", 20000, 10, ref).path, ref)
              .exit_code == 0);

  test::GatewayServer server(site.dir());
  REQUIRE(server.started());
  const uint16_t port = server.port();
  const pid_t pid = server.pid();

  struct Target {
    std::string path;
    bool op;
  };
  const std::string agg = "/v1/aggregates?ref_date=" + ref;
  const std::vector<Target> targets = {
      {agg + "&by=pop_type", false},
      {agg + "&by=pop_type,sex&format=csv", false},
      {agg + "&by=coo,sex,age&format=sdmx-json", false},
      {agg + "&by=pop_type,region&totals=true", false},
      {agg + "&by=pop_type,age&format=sdmx-csv", false},
      {agg + "&by=coo,pop_type&pop_type=REF,ASY", false},
      {"/healthz", false},
      {"/readyz", false},
      {"/v1/openapi.json", false},
      {"/v1/codelists/age_bands", false},
      {"/v1/snapshots?country=KAZ", true},
      {"/v1/budget", true},
      {"/metrics", true},
      {"/v1/audit?limit=100", true},
  };

  std::atomic<bool> loading{true};
  std::atomic<int64_t> requests{0}, failures{0}, reconnects{0}, uploaded{0}, upload_failures{0};
  std::mutex failure_mu;
  std::string first_failure;
  auto fail = [&](const std::string& what) {
    ++failures;
    std::lock_guard<std::mutex> lock(failure_mu);
    if (first_failure.empty()) first_failure = what;
  };
  // Keep-alive query clients.
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      std::mt19937 rng(static_cast<unsigned>(c) + 1);
      testing::HttpClient client(port, Ms(10000));
      bool connected = false;
      while (loading) {
        if (!connected) {
          if (!client.Connect().ok()) {
            fail("connect failed");
            std::this_thread::sleep_for(Ms(100));
            continue;
          }
          connected = true;
        }
        const Target& t = targets[rng() % targets.size()];
        const std::string& token = t.op ? site.operator_token() : site.reader_token();
        auto r = client.Send("GET", t.path, {}, {{"Authorization", "Bearer " + token}});
        ++requests;
        if (!r.ok()) {
          fail(t.path + ": " + r.status().ToString());
          connected = false;
          continue;
        }
        if (r->status != 200) fail(t.path + ": status " + std::to_string(r->status) + " " + r->body.substr(0, 200));
        if (!r->keep_alive) {
          ++reconnects;
          connected = false;
        }
      }
    });
  }
  // Signed uploads, alternating two registers so that each makes a version.
  std::thread uploader([&] {
    for (int i = 0; loading; ++i) {
      auto r = test::SignedUpload(port, "KAZ", ref, "profile=kaz-1&partial=true", bodies[i % 2], "text/csv",
                                  site.keyid(), site.key(), test::NewNonce());
      if (r.status == 201) {
        ++uploaded;
      } else {
        ++upload_failures;
        fail("upload: " + std::to_string(r.status) + " " + r.error + r.body.substr(0, 200));
      }
      std::this_thread::sleep_for(Ms(1000));  // a busy ministry: one snapshot a second
    }
  });

  // One sample a second.
  std::vector<Sample> samples;
  const auto start = Clock::now();
  while (Clock::now() - start < std::chrono::seconds(seconds)) {
    std::this_thread::sleep_for(Ms(1000));
    const int64_t wal = FileSize(site.db() + "-wal");
    samples.push_back(Sample{std::chrono::duration<double>(Clock::now() - start).count(), test::RssKb(pid),
                             test::FdCount(pid), wal, FileSize(site.db()) + wal});
  }
  loading = false;
  for (auto& t : clients) t.join();
  uploader.join();

  INFO("first failure: " << first_failure);
  CHECK(failures == 0);
  CHECK(uploaded >= 3);
  // Flat: after a warm-up (the first fifth), the last third's peaks against the first third's.
  const size_t warm = std::max<size_t>(3, samples.size() / 5);
  REQUIRE(samples.size() >= warm + 3);
  const size_t n = samples.size() - warm, third = n / 3;
  auto peak = [&](size_t from, size_t to, auto field) {
    decltype(field(samples[0])) m = 0;
    for (size_t i = warm + from; i < warm + to; ++i) m = std::max(m, field(samples[i]));
    return m;
  };
  auto rss = [](const Sample& s) { return s.rss_kb; };
  auto fds = [](const Sample& s) { return s.fds; };
  auto store = [](const Sample& s) { return s.store_bytes; };
  const int64_t rss_first = peak(0, third, rss), rss_last = peak(n - third, n, rss);
  const int fd_first = peak(0, third, fds), fd_last = peak(n - third, n, fds);
  // Every upload adds a version, and the writer's SQLite page cache (64 MiB at
  // most, store.cc) keeps the pages it wrote: that much growth is the cache
  // filling, not a leak.
  const int64_t store_growth_kb = (peak(n - third, n, store) - peak(0, third, store)) / 1024;
  const int64_t rss_allowed = rss_first * 12 / 10 + std::max<int64_t>(0, store_growth_kb);
  std::string series;
  for (const auto& s : samples) {
    char line[96];
    std::snprintf(line, sizeof line, "  t=%5.1fs rss=%lld KiB fds=%d store=%lld KiB wal=%lld KiB\n", s.t,
                  static_cast<long long>(s.rss_kb), s.fds, static_cast<long long>(s.store_bytes / 1024),
                  static_cast<long long>(s.wal_bytes / 1024));
    series += line;
  }
  INFO(series);
  if (GW_SANITIZED) {
    // Shadow memory and quarantines make RSS meaningless under a sanitizer.
    if (rss_last > rss_allowed) WARN("RSS grew under a sanitizer (not checked): " << rss_first << " -> " << rss_last);
  } else {
    CHECK(rss_last <= rss_allowed);
  }
  CHECK(fd_last <= fd_first + 4);

  // Graceful shutdown under load: two uploads at full speed and two that
  // trickle (a slow link) are in flight, queries keep coming, then SIGTERM.
  // The fast ones finish within shutdown_timeout (5 s) and get receipts; the
  // slow ones cannot and are dropped at it, leaving nothing behind. Under
  // TSan the server ingests 40,000 persons in well over 5 s, so a sanitized
  // build sends fast uploads of 10,000 (still in flight at SIGTERM); the slow
  // ones keep their 6 MB, which no build could receive within the bound.
  const int64_t versions_before = test::SqlInt(site.db(), "SELECT COUNT(*) FROM snapshots");
  std::vector<std::string> big;
  for (int i = 0; i < 4; ++i) {
    const int64_t persons = (i < 2 && GW_SANITIZED) ? 10000 : 40000;
    auto g = test::GenerateKaz(site.tmp() + "/big" + std::to_string(i) + ".csv", persons, 20 + i, ref);
    big.push_back(test::ReadFile(g.path));
  }
  std::vector<test::Reply> replies(big.size());
  std::atomic<bool> stopped{false};
  std::vector<std::thread> inflight;
  for (size_t i = 0; i < big.size(); ++i) {
    if (i < 2) {
      inflight.emplace_back([&, i] {
        replies[i] = test::SignedUpload(port, "KAZ", ref, "profile=kaz-1&partial=true", big[i], "text/csv",
                                        site.keyid(), site.key(), test::NewNonce());
      });
      continue;
    }
    inflight.emplace_back([&, i] {
      // 16 KiB every 50 ms: the 6 MB body would take over 20 s.
      const std::string target = "/v1/snapshots/KAZ/" + ref + "?profile=kaz-1&partial=true";
      int fd = test::ConnectLoopback(port);
      if (fd < 0) return;
      bool ok = test::SendAll(fd, SignedPutHead(site, port, target, big[i]), Ms(5000));
      for (size_t at = 0; ok && at < big[i].size(); at += 16384) {
        ok = test::SendAll(fd, std::string_view(big[i]).substr(at, 16384), Ms(5000));
        std::this_thread::sleep_for(Ms(50));
        if (stopped && at > 0 && !ok) break;
      }
      bool closed = false;
      std::string got = test::ReadUntilClosed(fd, Ms(5000), &closed);
      replies[i].status = test::FirstStatus(got);
      replies[i].body = got;
      if (replies[i].status == 0) replies[i].error = closed ? "dropped by the server" : "no answer";
      close(fd);
    });
  }
  std::atomic<bool> querying{true};
  std::thread querier([&] {
    while (querying) {
      if (test::HttpGet(port, agg + "&by=pop_type", site.reader_token(), Ms(2000)).status == 0) {
        std::this_thread::sleep_for(Ms(20));
      }
    }
  });
  std::this_thread::sleep_for(Ms(400));
  const auto term = Clock::now();
  auto code = server.Terminate(Ms(20000));
  const double stop_seconds = std::chrono::duration<double>(Clock::now() - term).count();
  stopped = true;
  querying = false;
  querier.join();
  for (auto& t : inflight) t.join();
  const std::string log = server.Log();
  INFO(log.substr(log.size() > 4000 ? log.size() - 4000 : 0));
  CHECK(code == 0);
  CHECK(stop_seconds < 10.0);  // shutdown_timeout (5 s), then the abandoned uploads are dropped

  int completed = 0, aborted = 0;
  for (size_t i = 0; i < big.size(); ++i) {
    static const char* hex = "0123456789abcdef";
    std::string digest = "sha256:";
    for (unsigned char c : test::Sha256(big[i])) digest += std::string{hex[c >> 4], hex[c & 15]};
    const int64_t stored = test::SqlInt(site.db(), "SELECT COUNT(*) FROM snapshots WHERE digest = '" + digest + "'");
    INFO("upload " << i << (i < 2 ? " (fast)" : " (slow)") << ": " << replies[i].status << " " << replies[i].error
                   << " " << replies[i].body.substr(0, 300));
    if (replies[i].status == 201) {
      ++completed;
      CHECK(stored == 1);  // a receipt means the version is there
    } else {
      ++aborted;
      CHECK((replies[i].status == 0 || replies[i].status == 503));
      CHECK(stored == 0);
    }
    if (i < 2) CHECK(replies[i].status == 201);  // finished within shutdown_timeout
    if (i >= 2) CHECK(stored == 0);              // its body never arrived in full
  }
  auto problems = test::StoreProblems(site.db(), true);
  for (const auto& p : problems) FAIL_CHECK(p);
  CHECK(problems.empty());
  const int64_t versions_after = test::SqlInt(site.db(), "SELECT COUNT(*) FROM snapshots");
  CHECK(versions_after >= versions_before + completed);
  CHECK(versions_after <= versions_before + static_cast<int64_t>(big.size()));
  auto verify = test::RunGatewayWith({"audit", "verify", "--dir", site.dir()});
  INFO(verify.err);
  CHECK(verify.exit_code == 0);
  // And it starts again on what was left.
  test::GatewayServer again(site.dir());
  REQUIRE(again.started());
  CHECK(test::HttpGet(again.port(), agg + "&by=pop_type", site.reader_token()).status == 200);
  CHECK(again.Terminate() == 0);

  std::printf("soak: %d s, %lld requests (%lld failed, %lld reconnects), %lld uploads committed; RSS peak %lld KiB "
              "(first third) -> %lld KiB (last third; allowed %lld with the store's growth), fds %d -> %d, WAL %lld "
              "KiB at the end%s; SIGTERM with %zu "
              "uploads in flight: exit %d after %.2f s, %d completed, %d aborted cleanly\n",
              seconds, static_cast<long long>(requests.load()), static_cast<long long>(failures.load()),
              static_cast<long long>(reconnects.load()), static_cast<long long>(uploaded.load()),
              static_cast<long long>(rss_first), static_cast<long long>(rss_last),
              static_cast<long long>(rss_allowed), fd_first, fd_last,
              static_cast<long long>(samples.back().wal_bytes / 1024), GW_SANITIZED ? " (sanitized build)" : "",
              big.size(), code.value_or(-1), stop_seconds, completed, aborted);
  std::fflush(stdout);
}

}  // namespace gw

namespace gw {

// The deadlock the soak found: an upload's snapshot transaction was held
// from its first body byte, so queries that write (every release is audited)
// blocked the server's I/O threads on the store's writer while the body they
// would have read never came. With two threads and a slowly arriving body,
// queries must still be answered promptly.
TEST_CASE("reliability: a slowly arriving upload does not stall queries that write", "[reliability][soak][deadlock]") {
  test::Site site("threads = 2\n");
  const std::string ref = kRefDate;
  REQUIRE(test::IngestKaz(site.dir(), test::GenerateKaz(site.tmp() + "/base.csv", 3000, 30, ref).path, ref)
              .exit_code == 0);
  const std::string body = test::ReadFile(test::GenerateKaz(site.tmp() + "/slow.csv", 20000, 31, ref).path);
  test::GatewayServer server(site.dir());
  REQUIRE(server.started());
  const uint16_t port = server.port();

  std::atomic<bool> trickling{true};
  std::thread slow([&] {
    const std::string target = "/v1/snapshots/KAZ/" + ref + "?profile=kaz-1&partial=true";
    int fd = test::ConnectLoopback(port);
    if (fd < 0) return;
    bool ok = test::SendAll(fd, SignedPutHead(site, port, target, body), Ms(5000));
    for (size_t at = 0; ok && trickling && at + 4096 < body.size(); at += 4096) {
      ok = test::SendAll(fd, std::string_view(body).substr(at, 4096), Ms(5000));
      std::this_thread::sleep_for(Ms(50));
    }
    close(fd);  // never finished: the upload is abandoned
  });
  std::this_thread::sleep_for(Ms(300));  // the upload is under way
  int answered = 0;
  double slowest = 0;
  for (int round = 0; round < 3; ++round) {
    std::vector<std::thread> queries;
    std::atomic<int> ok{0};
    std::atomic<int64_t> worst_us{0};
    for (int q = 0; q < 8; ++q) {
      queries.emplace_back([&, q] {
        const auto t0 = Clock::now();
        static const char* by[] = {"pop_type", "sex", "age", "region", "coo", "pop_type,sex", "pop_type,age",
                                   "sex,age"};
        auto r = test::HttpGet(port, "/v1/aggregates?ref_date=" + ref + "&by=" + by[q], site.reader_token(),
                               Ms(3000));
        if (r.status == 200) ++ok;
        const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
        int64_t prev = worst_us.load();
        while (us > prev && !worst_us.compare_exchange_weak(prev, us)) {
        }
      });
    }
    for (auto& t : queries) t.join();
    CHECK(ok == 8);
    answered += ok;
    slowest = std::max(slowest, static_cast<double>(worst_us.load()) / 1000.0);
  }
  CHECK(test::HttpGet(port, "/healthz", "", Ms(1000)).status == 200);
  trickling = false;
  slow.join();
  CHECK(server.Terminate() == 0);
  auto problems = test::StoreProblems(site.db(), true);
  for (const auto& p : problems) FAIL_CHECK(p);
  CHECK(test::SqlInt(site.db(), "SELECT COUNT(*) FROM snapshots") == 1);
  std::printf("deadlock: %d audited queries answered while an upload trickled in (2 server threads), slowest %.1f ms\n",
              answered, slowest);
}

TEST_CASE("reliability: shutdown_timeout_ms bounds a stop while an upload is still arriving",
          "[reliability][soak][shutdown]") {
  test::Site site("threads = 2\nshutdown_timeout_ms = 800\n");
  const std::string ref = kRefDate;
  const std::string body = test::ReadFile(test::GenerateKaz(site.tmp() + "/slow.csv", 20000, 41, ref).path);
  test::GatewayServer server(site.dir());
  REQUIRE(server.started());
  const uint16_t port = server.port();
  const std::string target = "/v1/snapshots/KAZ/" + ref + "?profile=kaz-1&partial=true";
  // The head and a first part of the body; the rest never comes.
  int fd = test::ConnectLoopback(port);
  REQUIRE(fd >= 0);
  REQUIRE(test::SendAll(fd, SignedPutHead(site, port, target, body), Ms(5000)));
  REQUIRE(test::SendAll(fd, std::string_view(body).substr(0, 8192), Ms(5000)));
  std::this_thread::sleep_for(Ms(300));
  const auto term = Clock::now();
  auto code = server.Terminate(Ms(20000));
  const double stop_seconds = std::chrono::duration<double>(Clock::now() - term).count();
  close(fd);
  INFO(server.Log());
  CHECK(code == 0);
  CHECK(stop_seconds >= 0.7);  // it waited for the upload in flight...
  CHECK(stop_seconds < 4.0);   // ...for the setting's 0.8 s, not the default 5 s
  // Nothing of the abandoned upload was kept.
  CHECK(test::SqlInt(site.db(), "SELECT COUNT(*) FROM snapshots") == 0);
  std::printf("shutdown: stopped %.2f s after SIGTERM with an upload in flight (shutdown_timeout_ms = 800)\n",
              stop_seconds);
}

}  // namespace gw
