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
};

int64_t FileSize(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(n);
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
      std::this_thread::sleep_for(Ms(300));
    }
  });

  // One sample a second.
  std::vector<Sample> samples;
  const auto start = Clock::now();
  while (Clock::now() - start < std::chrono::seconds(seconds)) {
    std::this_thread::sleep_for(Ms(1000));
    samples.push_back(Sample{std::chrono::duration<double>(Clock::now() - start).count(), test::RssKb(pid),
                             test::FdCount(pid), FileSize(site.db() + "-wal")});
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
  const int64_t rss_first = peak(0, third, rss), rss_last = peak(n - third, n, rss);
  const int fd_first = peak(0, third, fds), fd_last = peak(n - third, n, fds);
  std::string series;
  for (const auto& s : samples) {
    char line[96];
    std::snprintf(line, sizeof line, "  t=%5.1fs rss=%lld KiB fds=%d wal=%lld KiB\n", s.t,
                  static_cast<long long>(s.rss_kb), s.fds, static_cast<long long>(s.wal_bytes / 1024));
    series += line;
  }
  INFO(series);
  if (GW_SANITIZED) {
    // Shadow memory and quarantines make RSS meaningless under a sanitizer.
    if (rss_last > rss_first * 12 / 10) WARN("RSS grew under a sanitizer (not checked): " << rss_first << " -> " << rss_last);
  } else {
    CHECK(rss_last <= rss_first * 12 / 10);
  }
  CHECK(fd_last <= fd_first + 4);

  // Graceful shutdown under load: four large uploads in flight, queries still coming.
  const int64_t versions_before = test::SqlInt(site.db(), "SELECT COUNT(*) FROM snapshots");
  std::vector<std::string> big;
  std::vector<std::string> big_digests;
  for (int i = 0; i < 4; ++i) {
    auto g = test::GenerateKaz(site.tmp() + "/big" + std::to_string(i) + ".csv", 40000, 20 + i, ref);
    big.push_back(test::ReadFile(g.path));
  }
  std::vector<test::Reply> replies(big.size());
  std::vector<std::thread> inflight;
  for (size_t i = 0; i < big.size(); ++i) {
    inflight.emplace_back([&, i] {
      replies[i] = test::SignedUpload(port, "KAZ", ref, "profile=kaz-1&partial=true", big[i], "text/csv",
                                      site.keyid(), site.key(), test::NewNonce());
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
  querying = false;
  querier.join();
  for (auto& t : inflight) t.join();
  INFO(server.Log().substr(server.Log().size() > 4000 ? server.Log().size() - 4000 : 0));
  CHECK(code == 0);
  CHECK(stop_seconds < 12.0);  // shutdown_timeout (5 s) and the abandoned ingests' rollbacks

  int completed = 0, aborted = 0;
  for (size_t i = 0; i < big.size(); ++i) {
    const std::string digest = "sha256:" + [&] {
      static const char* d = "0123456789abcdef";
      std::string h;
      for (unsigned char c : test::Sha256(big[i])) h += std::string{d[c >> 4], d[c & 15]};
      return h;
    }();
    const int64_t stored = test::SqlInt(site.db(), "SELECT COUNT(*) FROM snapshots WHERE digest = '" + digest + "'");
    INFO("upload " << i << ": " << replies[i].status << " " << replies[i].error << " " << replies[i].body.substr(0, 300));
    if (replies[i].status == 201) {
      ++completed;
      CHECK(stored == 1);
    } else {
      ++aborted;
      CHECK(replies[i].status != 200);
      CHECK((replies[i].status == 0 || replies[i].status == 503));
      CHECK(stored <= 1);  // committed just as the connection was dropped: whole, never half
    }
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
              "(first third) -> %lld KiB (last third), fds %d -> %d, WAL %lld KiB at the end%s; SIGTERM with %zu "
              "uploads in flight: exit %d after %.2f s, %d completed, %d aborted cleanly\n",
              seconds, static_cast<long long>(requests.load()), static_cast<long long>(failures.load()),
              static_cast<long long>(reconnects.load()), static_cast<long long>(uploaded.load()),
              static_cast<long long>(rss_first), static_cast<long long>(rss_last), fd_first, fd_last,
              static_cast<long long>(samples.back().wal_bytes / 1024), GW_SANITIZED ? " (sanitized build)" : "",
              big.size(), code.value_or(-1), stop_seconds, completed, aborted);
  std::fflush(stdout);
}

}  // namespace gw
