// Hostile HTTP (docs/reliability.md): the real `gateway serve`, with short
// timeouts from gateway.toml, is sent garbage, broken request lines, huge
// heads and targets, smuggling framings, broken chunked bodies, bad
// percent-encoding, thousands of parameters, a claimed 100 GB body, hundreds
// of slowloris connections and clients that pipeline large responses without
// ever reading them. Every malformed request must get a 4xx (never a 2xx or a
// 5xx) or a closed connection, within bounds; throughout, /healthz answers
// within 1 s; afterwards a real aggregate query returns the truth's counts and
// the server's descriptors are back to where they were.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/reliability.h"

namespace gw {
namespace {

using test::Ms;
using Clock = std::chrono::steady_clock;

constexpr int kHeaderTimeoutMs = 1000;

// How long the non-reading clients may wait to be dropped. Each is dropped one
// write_timeout after its socket buffers fill, but the server first computes
// the answers that fill them; a sanitized server (scripts/sanitize.sh) does
// that several times slower, and under ctest -j it shares the CPU too.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kDeafWaitMs = 90000;
#else
constexpr int kDeafWaitMs = 30000;
#endif

struct Case {
  std::string name;
  std::string bytes;
  std::set<int> statuses;     // acceptable answers; empty: only a close
  bool keeps_alive = false;   // well framed: answered and the connection stays open
  bool silent_close_ok = true;  // the server may close without answering
};

struct Outcome {
  int status = 0;
  bool closed = false;
  double seconds = 0;
};

Outcome Run(uint16_t port, const Case& c) {
  Outcome o;
  int fd = test::ConnectLoopback(port);
  if (fd < 0) return o;
  const auto t0 = Clock::now();
  (void)test::SendAll(fd, c.bytes, Ms(5000));  // the server may close before taking it all
  std::string got;
  if (c.keeps_alive) {
    // The answer comes at once; the connection must then still be open.
    got = test::ReadUntilClosed(fd, Ms(500), &o.closed, 1 << 16);
  } else {
    got = test::ReadUntilClosed(fd, Ms(kHeaderTimeoutMs + 4000), &o.closed, 1 << 20);
  }
  o.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  o.status = test::FirstStatus(got);
  close(fd);
  return o;
}

std::string Repeat(const std::string& s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

std::vector<Case> Cases() {
  const std::string host = "Host: 127.0.0.1\r\n";
  const std::set<int> k400 = {400}, k431 = {431, 400}, k413 = {413}, k4xx = {400, 401, 404, 405, 411, 413, 431, 501};
  std::vector<Case> cases;
  auto add = [&](std::string name, std::string bytes, std::set<int> statuses, bool silent_ok = true) {
    cases.push_back(Case{std::move(name), std::move(bytes), std::move(statuses), false, silent_ok});
  };
  auto kept = [&](std::string name, std::string target, std::set<int> statuses) {
    cases.push_back(Case{std::move(name), "GET " + target + " HTTP/1.1\r\n" + host + "\r\n", std::move(statuses),
                         true, false});
  };

  // Garbage: random bytes, NULs, a TLS ClientHello, an HTTP/2 preface.
  std::mt19937 rng(20240607);
  for (int i = 0; i < 60; ++i) {
    std::string junk(static_cast<size_t>(64 + rng() % 4000), '\0');
    for (char& ch : junk) ch = static_cast<char>(rng() & 0xff);
    add("garbage #" + std::to_string(i), junk, k4xx);
  }
  add("NUL bytes", std::string(2048, '\0'), k4xx);
  add("TLS ClientHello", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + std::string(500, 'A'), k4xx);
  add("HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", k4xx);

  // Bad request lines and header syntax.
  add("empty lines only", "\r\n\r\n\r\n\r\n", k4xx);
  add("method only", "GET\r\n\r\n", k400);
  add("no version", "GET /healthz\r\n\r\n", k400);
  add("extra token", "GET /healthz HTTP/1.1 extra\r\n" + host + "\r\n", k400);
  add("bad protocol", "GET /healthz HTTQ/1.1\r\n" + host + "\r\n", k400);
  add("HTTP/9.9", "GET /healthz HTTP/9.9\r\n" + host + "\r\n", {400, 505});
  add("bad method characters", "G@T /healthz HTTP/1.1\r\n" + host + "\r\n", k400);
  add("double space", "GET  /healthz HTTP/1.1\r\n" + host + "\r\n", k400);
  add("control character in target", "GET /health\x7fz HTTP/1.1\r\n" + host + "\r\n", k400);
  add("space in target", "GET /heal thz HTTP/1.1\r\n" + host + "\r\n", k400);
  add("bare LF", "GET /healthz HTTP/1.1\nHost: x\n\n", k4xx);
  add("header without colon", "GET /healthz HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n", k400);
  add("space in header name", "GET /healthz HTTP/1.1\r\nHo st: x\r\n\r\n", k400);
  add("space before colon", "GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n", k400);
  add("leading fold", "GET /healthz HTTP/1.1\r\n Host: x\r\n\r\n", k400);
  add("NUL in header value", std::string("GET /healthz HTTP/1.1\r\nX-A: a\0b\r\n", 33) + host + "\r\n", k400);
  add("long method", Repeat("A", 20000) + " /healthz HTTP/1.1\r\n" + host + "\r\n", k431);

  // Huge heads and targets: 431 at max_header_bytes (16 KiB).
  add("100 KB header", "GET /healthz HTTP/1.1\r\n" + host + "X-Big: " + Repeat("b", 100000) + "\r\n\r\n", k431);
  add("2000 headers", "GET /healthz HTTP/1.1\r\n" + host + Repeat("X-Many: 0123456789\r\n", 2000) + "\r\n", k431);
  add("1 MB target", "GET /" + Repeat("a", 1 << 20) + " HTTP/1.1\r\n" + host + "\r\n", k431);
  add("64 KB query", "GET /v1/aggregates?ref_date=" + Repeat("9", 65536) + " HTTP/1.1\r\n" + host + "\r\n", k431);

  // Framing and smuggling.
  const std::string reload = "POST /v1/admin/reload HTTP/1.1\r\n" + host;
  const std::string upload = "PUT /v1/snapshots/KAZ/2015-06-30?profile=kaz-1 HTTP/1.1\r\n" + host;
  add("Content-Length with Transfer-Encoding", reload + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      k400, false);
  add("Content-Length with Transfer-Encoding (upload route)",
      upload + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", k400, false);
  add("Transfer-Encoding before Content-Length",
      reload + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", k400, false);
  add("two different Content-Lengths", reload + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef", k400);
  add("negative Content-Length", reload + "Content-Length: -1\r\n\r\n", k400);
  add("non-numeric Content-Length", reload + "Content-Length: abc\r\n\r\n", k400);
  add("overflowing Content-Length", reload + "Content-Length: 99999999999999999999999999\r\n\r\n", {400, 413});
  add("Transfer-Encoding xchunked", reload + "Transfer-Encoding: xchunked\r\n\r\n", k4xx);
  add("chunked twice", reload + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", k4xx);

  // Broken chunked bodies.
  const std::string chunked = reload + "Transfer-Encoding: chunked\r\n\r\n";
  add("chunk size not hex", chunked + "zz\r\nabc\r\n0\r\n\r\n", k400);
  add("chunk size overflow", chunked + "fffffffffffffffffffffff\r\nabc\r\n", {400, 413});
  add("chunk without CRLF", chunked + "3\r\nabcXX3\r\nabc\r\n0\r\n\r\n", k400);
  add("control character in chunk extension", chunked + "3;\x01\r\nabc\r\n0\r\n\r\n", k400);
  add("chunk above body limit", chunked + "40000000\r\n" + Repeat("x", 4096), {413, 400});
  add("broken chunked upload (unsigned)", upload + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", {400, 401}, false);

  // Invalid percent-encoding and hostile targets: 400, connection kept.
  for (const char* t : {"/v1/aggregates?ref_date=%zz", "/v1/aggregates?ref_date=%", "/v1/aggregates?ref_date=%4",
                        "/v1/aggregates?%=1", "/v1/codelists/%zz", "/v1/codelists/%"}) {
    kept(std::string("bad percent-encoding ") + t, t, k400);
  }
  kept("NUL by percent-encoding", "/v1/codelists/a%00b", {400, 404});
  kept("overlong UTF-8", "/v1/codelists/%C0%AE%C0%AE", {400, 404});
  kept("invalid UTF-8", "/v1/codelists/%FF%FE", {400, 404});
  kept("dot segments", "/v1/../../../etc/passwd", {400, 404});
  kept("5000 repeated parameters", "/v1/aggregates?" + Repeat("a&", 5000) + "a", k400);
  kept("3000 repeated ref_date", "/v1/aggregates?" + Repeat("r=1&", 3000) + "r=1", k400);
  kept("absolute-form target", "http://127.0.0.1/healthz", {200, 400, 404});

  // A claimed 100 GB body: 413 from the Content-Length alone.
  add("100 GB Content-Length", reload + "Content-Length: 107374182400\r\n\r\n" + Repeat("x", 8192), k413, false);
  add("100 GB Content-Length with Expect", reload + "Content-Length: 107374182400\r\nExpect: 100-continue\r\n\r\n",
      k413, false);
  add("100 GB upload", upload + "Content-Type: text/csv\r\nContent-Length: 107374182400\r\n\r\n" + Repeat("x", 8192),
      k413, false);
  add("100 GB chunk", chunked + "1900000000\r\n" + Repeat("x", 8192), {413, 400}, false);
  return cases;
}

}  // namespace

TEST_CASE("reliability: hostile HTTP leaves the server answering normal clients", "[reliability][hostile]") {
  const int64_t fd_limit = test::RaiseFdLimit(8192);
  REQUIRE(fd_limit >= 1024);
  // Two I/O threads and two for handlers that use the database: each of the
  // latter keeps a read connection (two descriptors) once it has used one,
  // which the descriptor check below allows for.
  test::Site site("threads = 2\nblocking_threads = 2\nheader_timeout_ms = " + std::to_string(kHeaderTimeoutMs) +
                  "\nbody_timeout_ms = 1000\nidle_timeout_ms = 1000\nwrite_timeout_ms = 1000\n");
  REQUIRE(test::IngestKaz(site.dir(), test::FixturePath("kaz-1.csv"), "2015-06-30").exit_code == 0);
  test::GatewayServer server(site.dir());
  REQUIRE(server.started());
  const uint16_t port = server.port();
  // Warm up (reader pool, key cache), then the baseline.
  REQUIRE(test::HttpGet(port, "/v1/aggregates?ref_date=2015-06-30&by=pop_type", site.reader_token()).status == 200);
  const int fds_before = test::FdCount(server.pid());
  const int64_t rss_before = test::RssKb(server.pid());

  // A watcher: /healthz every 50 ms on a fresh connection, the slowest answer kept.
  std::atomic<bool> watching{true};
  std::atomic<int64_t> worst_us{0}, health_checks{0}, health_failures{0};
  std::thread watcher([&] {
    while (watching) {
      const auto t0 = Clock::now();
      auto r = test::HttpGet(port, "/healthz", "", Ms(5000));
      const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
      ++health_checks;
      if (r.status != 200) ++health_failures;
      int64_t prev = worst_us.load();
      while (us > prev && !worst_us.compare_exchange_weak(prev, us)) {
      }
      std::this_thread::sleep_for(Ms(50));
    }
  });

  // 1. The malformed requests, 16 at a time.
  const std::vector<Case> cases = Cases();
  std::vector<Outcome> outcomes(cases.size());
  {
    std::atomic<size_t> next{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < 16; ++w) {
      workers.emplace_back([&] {
        for (size_t i = next++; i < cases.size(); i = next++) outcomes[i] = Run(port, cases[i]);
      });
    }
    for (auto& t : workers) t.join();
  }
  int answered = 0, silent = 0;
  std::map<int, int> by_status;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const Outcome& o = outcomes[i];
    INFO(c.name << ": status " << o.status << ", closed " << o.closed << " after " << o.seconds << " s");
    CHECK((o.status == 0 || (o.status >= 400 && o.status < 500) || c.statuses.count(o.status)));
    if (c.keeps_alive) {
      CHECK(c.statuses.count(o.status) == 1);
      CHECK_FALSE(o.closed);
    } else {
      CHECK(o.closed);
      CHECK(o.seconds < kHeaderTimeoutMs / 1000.0 + 3.0);
      if (o.status != 0) {
        CHECK(c.statuses.count(o.status) == 1);
      } else {
        CHECK(c.silent_close_ok);
      }
    }
    (o.status != 0 ? answered : silent)++;
    ++by_status[o.status];
  }
  std::string statuses;
  for (const auto& [status, n] : by_status) statuses += " " + std::to_string(n) + "x" + std::to_string(status);

  // 2. Slowloris: 150 connections that send nothing and 150 that trickle a
  //    head one byte at a time; all are closed at header_timeout.
  constexpr int kSlow = 300;
  std::vector<int> slow;
  for (int i = 0; i < kSlow; ++i) {
    int fd = test::ConnectLoopback(port);
    REQUIRE(fd >= 0);
    slow.push_back(fd);
  }
  const auto slow_start = Clock::now();
  const std::string head = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
  std::vector<bool> slow_closed(kSlow, false);
  size_t pos = 0;
  while (Clock::now() - slow_start < Ms(kHeaderTimeoutMs + 2500)) {
    for (int i = kSlow / 2; i < kSlow; ++i) {
      if (slow_closed[static_cast<size_t>(i)]) continue;
      char c = pos < head.size() ? head[pos] : 'x';
      if (send(slow[static_cast<size_t>(i)], &c, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) slow_closed[static_cast<size_t>(i)] = true;
    }
    ++pos;
    std::this_thread::sleep_for(Ms(100));
  }
  int slow_closed_by_server = 0;
  for (int i = 0; i < kSlow; ++i) {
    bool closed = false;
    test::ReadUntilClosed(slow[static_cast<size_t>(i)], Ms(i == 0 ? 2000 : 50), &closed);
    slow_closed_by_server += closed ? 1 : 0;
    close(slow[static_cast<size_t>(i)]);
  }
  CHECK(slow_closed_by_server == kSlow);

  // 3. Clients that pipeline 1000 requests for large answers and never read.
  constexpr int kDeaf = 20, kPipelined = 1000;
  std::vector<int> deaf;
  for (int i = 0; i < kDeaf; ++i) {
    int fd = test::ConnectLoopback(port, 4096);
    REQUIRE(fd >= 0);
    deaf.push_back(fd);
  }
  const std::string one = "GET /v1/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  const std::string big = "GET /v1/aggregates?ref_date=2015-06-30&by=pop_type,coo,sex,age,region HTTP/1.1\r\nHost: "
                          "127.0.0.1\r\nAuthorization: Bearer " + site.reader_token() + "\r\n\r\n";
  for (int i = 0; i < kDeaf; ++i) {
    // Whatever the server does not take within 300 ms stays unsent: it has stopped reading.
    (void)test::SendAll(deaf[static_cast<size_t>(i)], Repeat(i % 2 ? one : big, kPipelined), Ms(300));
  }
  // Wait, without reading a byte (reading would let the server go on), until
  // the server has dropped each of them: FIN or RST shows as RDHUP/HUP/ERR.
  const auto deaf_start = Clock::now();
  int deaf_closed = 0, deaf_cut = 0;
  std::vector<bool> gone(kDeaf, false);
  while (deaf_closed < kDeaf && Clock::now() - deaf_start < Ms(kDeafWaitMs)) {
    for (int i = 0; i < kDeaf; ++i) {
      if (gone[static_cast<size_t>(i)]) continue;
      pollfd p{deaf[static_cast<size_t>(i)], POLLRDHUP, 0};
      if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
        gone[static_cast<size_t>(i)] = true;
        ++deaf_closed;
      }
    }
    std::this_thread::sleep_for(Ms(50));
  }
  const double deaf_seconds = std::chrono::duration<double>(Clock::now() - deaf_start).count();
  for (int fd : deaf) {
    bool closed = false;
    const std::string got = test::ReadUntilClosed(fd, Ms(2000), &closed, size_t{256} << 20);
    // Dropped before all its answers were written: the server gave up on it.
    size_t answers = 0;
    for (size_t at = got.find("HTTP/1.1 "); at != std::string::npos; at = got.find("HTTP/1.1 ", at + 1)) ++answers;
    deaf_cut += answers < static_cast<size_t>(kPipelined) ? 1 : 0;
    close(fd);
  }
  CHECK(deaf_closed == kDeaf);
  CHECK(deaf_cut == kDeaf);

  watching = false;
  watcher.join();
  CHECK(health_failures == 0);
  CHECK(worst_us.load() < 1000000);

  // Normal clients get normal answers, promptly.
  const auto t0 = Clock::now();
  auto health = test::HttpGet(port, "/healthz", "", Ms(1000));
  CHECK(health.status == 200);
  CHECK(Clock::now() - t0 < Ms(1000));
  auto agg = test::HttpGet(port, "/v1/aggregates?ref_date=2015-06-30&by=pop_type", site.reader_token());
  REQUIRE(agg.status == 200);
  CHECK(test::CountsByKey(agg.Json(), {"pop_type"}) ==
        test::TruthCounts(test::Truth("kaz-1.truth.json"), "pop_type"));
  // Every hostile connection is gone: the descriptors are back.
  int fds_after = test::FdCount(server.pid());
  for (int i = 0; i < 50 && fds_after > fds_before + 4; ++i) {
    std::this_thread::sleep_for(Ms(100));
    fds_after = test::FdCount(server.pid());
  }
  CHECK(fds_after <= fds_before + 4);
  const int64_t rss_after = test::RssKb(server.pid());
  CHECK(server.running());
  CHECK(server.Terminate() == 0);

  std::printf("hostile: %zu malformed requests (%d answered 4xx, %d closed without an answer; statuses:%s), %d "
              "slowloris connections (all closed at header_timeout), %d non-reading clients x %d pipelined requests "
              "(all dropped at write_timeout, the last after %.1f s); %lld /healthz checks during the attack, "
              "slowest %.1f ms; server fds %d -> %d, RSS %lld -> %lld KiB\n",
              cases.size(), answered, silent, statuses.c_str(), kSlow, kDeaf, kPipelined, deaf_seconds,
              static_cast<long long>(health_checks.load()), static_cast<double>(worst_us.load()) / 1000.0,
              fds_before, fds_after, static_cast<long long>(rss_before), static_cast<long long>(rss_after));
  std::fflush(stdout);
}

}  // namespace gw
