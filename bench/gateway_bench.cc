// gateway-bench: the performance targets of docs/performance.md, measured side
// by side in one run, as ratios (shared machines are noisy; a ratio of two
// figures taken together is what can be compared between runs).
//
//   gateway-bench --gateway build/bin/gateway --gwgen build/bin/gwgen --work DIR
//                 [--persons 1000000] [--query-persons 10000000] [--runs 3]
//                 [--connections 32] [--seconds 10] [--uzb-bytes 1000000000]
//                 [--only ingest,memory,query,push] [--attach PORT]
//                 [--client builtin|wrk]
//
// 1. ingest: `gateway ingest` of a kaz-1 file of --persons persons, end to end,
//    against `sqlite3` importing the same number of already-normalised rows
//    (the persons the gateway stored, exported in key order: the fastest order
//    for SQLite) into an equivalent table in WAL mode. Median of --runs each,
//    interleaved. Target: ratio <= 2.0.
// 2. memory: peak RSS of those ingests and of a --uzb-bytes uzb-1 ingest.
//    Target: <= 200 MB.
// 3. query: --query-persons persons over the five countries under dp grants,
//    --connections keep-alive connections for --seconds each on /healthz, on
//    by=pop_type,coo,sex for one country and on by=coa,pop_type for all.
//    Targets: rate ratio >= 0.5, p99 <= 10 ms. Also the first (paid, not yet
//    computed) query of a new table.
// 4. push: `gateway push` of the kaz-1 file: client rows/s, and the server's
//    shared-v1 ingest rate from its own request-duration metric.
//
// --client wrk drives the three query phases with wrk (-t one per core,
// --latency) instead of the built-in load generator; everything else is the
// same. wrk reads an answer 8 KB at a time; it spent 73-74 us of CPU on a
// 66 KB answer against 19-21 us on /healthz on 29 November 2026, and 19.9
// against 7.7 us on the faster VM of 30 November (docs/performance.md
// compares both clients).
//
// --attach PORT measures query and push against a server already serving
// WORK/query on 127.0.0.1:PORT (e.g. started by hand under perf) instead of
// starting one; the first-query figure is then a repeat if it ran before.
//
// Everything runs on 127.0.0.1; nothing leaves the machine.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <string_view>
#include <utility>  // before Asio: Boost 1.74 uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string gateway = "build/bin/gateway", gwgen = "build/bin/gwgen", work = "bench-work";
  long persons = 1000000, query_persons = 10000000, uzb_bytes = 1000000000;
  int runs = 3, connections = 32, seconds = 10;
  int attach_port = 0;  // measure a server already serving work/query on this loopback port
  std::string only = "ingest,memory,query,push";
  std::string client = "builtin";  // or "wrk"
  bool Wants(const std::string& part) const { return only.find(part) != std::string::npos; }
};

struct RunResult {
  int status = -1;
  double seconds = 0;
  double max_rss_mb = 0;
  std::string out, err;
};

// Runs a command (argv), stdin from `in` (or /dev/null), capturing stdout and
// stderr to files; wall time and the child's peak RSS from wait4.
RunResult Run(const std::vector<std::string>& argv, const std::string& in = "/dev/null",
              const std::string& out_file = "") {
  static int counter = 0;
  std::string out = out_file.empty() ? "/tmp/gateway-bench-" + std::to_string(getpid()) + "-" +
                                           std::to_string(counter++) + ".out"
                                     : out_file;
  std::string err = out + ".err";
  auto start = Clock::now();
  std::fflush(nullptr);  // or the child's freopen would write our buffered output again
  pid_t pid = fork();
  if (pid == 0) {
    if (!freopen(in.c_str(), "r", stdin) || !freopen(out.c_str(), "w", stdout) ||
        !freopen(err.c_str(), "w", stderr)) {
      _exit(127);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  RunResult r;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.max_rss_mb = static_cast<double>(usage.ru_maxrss) * 1024 / 1e6;
  std::ifstream o(out), e(err);
  std::stringstream so, se;
  so << o.rdbuf();
  se << e.rdbuf();
  r.out = so.str();
  r.err = se.str();
  if (out_file.empty()) fs::remove(out);
  fs::remove(err);
  return r;
}

RunResult MustRun(const std::vector<std::string>& argv, const std::string& in = "/dev/null",
                  const std::string& out_file = "") {
  RunResult r = Run(argv, in, out_file);
  if (r.status != 0) {
    std::cerr << "gateway-bench: command failed (" << r.status << "): " << argv[0] << " " << argv[1] << "\n"
              << r.err.substr(0, 2000) << "\n";
    std::exit(1);
  }
  return r;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string Grants(double budget) {
  std::string out;
  for (const char* c : {"KAZ", "KGZ", "TJK", "TKM", "UZB"}) {
    out += std::string("[[grant]]\ncountry = \"") + c +
           "\"\nconsumer = \"bench\"\npop_types = [\"REF\", \"ASY\", \"STA\", \"MIG\"]\n"
           "dimensions = [\"coa\", \"coo\", \"pop_type\", \"sex\", \"age\", \"region\"]\n"
           "mechanism = \"dp\"\nepsilon = 0.5\nbudget = " + std::to_string(budget) + "\nthreshold = 5\n\n";
  }
  return out;
}

// ---- load generation ----

// The audit thread's totals from the server's /metrics (operator token).
struct AuditTotals {
  double entries = 0, commits = 0, wait_s = 0;
  AuditTotals operator-(const AuditTotals& earlier) const {
    return {entries - earlier.entries, commits - earlier.commits, wait_s - earlier.wait_s};
  }
};

struct LoadResult {
  double rate = 0, p50_ms = 0, p99_ms = 0;
  long requests = 0, errors = 0;
  double cpu_us = 0;     // CPU time of the whole machine (server and load generator) per request
  // Share of the machine's CPU time that was busy during the phase: below
  // about 0.9 the phase waited for something other than the CPU.
  double busy = 0;
  size_t body_bytes = 0;  // of the last answer
  // What the server's audit thread did during the phase (/metrics after
  // minus before); commits 0 when nothing was audited or the server does not
  // report it.
  AuditTotals audit;
};

// Busy and total jiffies of all CPUs, from /proc/stat.
std::pair<long long, long long> CpuJiffies() {
  std::ifstream stat("/proc/stat");
  std::string cpu;
  long long v, busy = 0, total = 0;
  stat >> cpu;
  for (int i = 0; i < 8 && stat >> v; ++i) {
    total += v;
    if (i != 3 && i != 4) busy += v;  // all but idle and iowait
  }
  return {busy, total};
}

// Busy machine CPU between two CpuJiffies readings, per answered request.
double CpuUsPerRequest(std::pair<long long, long long> before,
                       std::pair<long long, long long> after, long requests) {
  if (requests <= 0) return 0;
  return static_cast<double>(after.first - before.first) * 1e6 / sysconf(_SC_CLK_TCK) /
         static_cast<double>(requests);
}

// Busy share of all CPUs' time between two CpuJiffies readings.
double BusyShare(std::pair<long long, long long> before, std::pair<long long, long long> after) {
  const long long total = after.second - before.second;
  return total > 0 ? static_cast<double>(after.first - before.first) / static_cast<double>(total)
                   : 0;
}

// One keep-alive connection of the load generator, on a blocking thread of its
// own (wrk serves its connections from one epoll thread per core): it reads
// each answer into a reused 1 MiB buffer and looks only at the status line and
// Content-Length, so a large answer takes a few recv calls and no parsing
// (nor decoding, when it comes gzipped).
class LoadConnection {
 public:
  LoadConnection(uint16_t port, const std::string& target, const std::string& token,
                 const std::string& accept_encoding)
      : buffer_(size_t{1} << 20) {
    request_ = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (!token.empty()) request_ += "Authorization: Bearer " + token + "\r\n";
    if (!accept_encoding.empty()) request_ += "Accept-Encoding: " + accept_encoding + "\r\n";
    request_ += "\r\n";
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    if (fd_ >= 0) setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fd_ >= 0 && connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~LoadConnection() {
    if (fd_ >= 0) close(fd_);
  }
  bool connected() const { return fd_ >= 0; }
  size_t body_bytes() const { return body_bytes_; }

  // The status of one request/response exchange; 0 when the connection failed.
  int Exchange() {
    for (size_t sent = 0; sent < request_.size();) {
      ssize_t n = send(fd_, request_.data() + sent, request_.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return 0;
      sent += static_cast<size_t>(n);
    }
    size_t have = 0, head_end = std::string_view::npos, body_length = 0;
    while (true) {
      if (have == buffer_.size()) buffer_.resize(buffer_.size() * 2);
      ssize_t n = recv(fd_, buffer_.data() + have, buffer_.size() - have, 0);
      if (n <= 0) return 0;
      have += static_cast<size_t>(n);
      std::string_view got(buffer_.data(), have);
      if (head_end == std::string_view::npos) {
        head_end = got.find("\r\n\r\n");
        if (head_end == std::string_view::npos) continue;
        head_end += 4;
        // Found in place, whatever its case: no copy of the head per answer.
        static constexpr std::string_view kLength = "\r\ncontent-length:";
        const std::string_view head = got.substr(0, head_end);
        auto at = std::search(
            head.begin(), head.end(), kLength.begin(), kLength.end(),
            [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
        if (at == head.end()) return 0;  // the gateway always sends one
        body_length = 0;
        for (auto d = at + static_cast<std::ptrdiff_t>(kLength.size()); d != head.end(); ++d) {
          if (*d == ' ' && body_length == 0) continue;
          if (*d < '0' || *d > '9') break;
          body_length = body_length * 10 + static_cast<size_t>(*d - '0');
        }
      }
      if (have >= head_end + body_length) break;
    }
    body_bytes_ = body_length;
    if (have < 12) return 0;
    const char* code = buffer_.data() + 9;  // "HTTP/1.1 200"
    int status = 0;
    for (int i = 0; i < 3; ++i) {
      if (code[i] < '0' || code[i] > '9') return 0;
      status = status * 10 + (code[i] - '0');
    }
    return status;
  }

 private:
  int fd_ = -1;
  size_t body_bytes_ = 0;
  std::string request_;
  std::vector<char> buffer_;
};

LoadResult Load(uint16_t port, const std::string& target, const std::string& token,
                const std::string& accept_encoding, int connections, int seconds) {
  std::vector<std::vector<double>> latencies(connections);
  std::atomic<long> errors{0};
  std::atomic<size_t> body_bytes{0};
  const auto cpu_before = CpuJiffies();
  auto deadline = Clock::now() + std::chrono::seconds(seconds);
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      LoadConnection connection(port, target, token, accept_encoding);
      if (!connection.connected()) {
        ++errors;
        return;
      }
      latencies[c].reserve(size_t{1} << 16);
      while (Clock::now() < deadline) {
        auto t0 = Clock::now();
        int status = connection.Exchange();
        if (status != 200) {
          ++errors;
          if (status == 0) return;
          continue;
        }
        latencies[c].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
      body_bytes = connection.body_bytes();
    });
  }
  for (auto& t : threads) t.join();
  const auto cpu_after = CpuJiffies();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  LoadResult r;
  r.requests = static_cast<long>(all.size());
  r.errors = errors;
  r.rate = static_cast<double>(all.size()) / seconds;
  r.body_bytes = body_bytes;
  r.cpu_us = CpuUsPerRequest(cpu_before, cpu_after, r.requests);
  r.busy = BusyShare(cpu_before, cpu_after);
  if (!all.empty()) {
    r.p50_ms = all[all.size() / 2];
    r.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  return r;
}

struct GetResult {
  unsigned status = 0;
  std::string body;
  double ms = 0;  // from writing the request to the whole answer read
};

GetResult Get(uint16_t port, const std::string& target, const std::string& token,
              const std::string& accept_encoding = "") {
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::authorization, "Bearer " + token);
  if (!accept_encoding.empty()) req.set(http::field::accept_encoding, accept_encoding);
  auto t0 = Clock::now();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return {res.result_int(), std::move(res.body()), std::chrono::duration<double, std::milli>(Clock::now() - t0).count()};
}

double TimedGetMs(uint16_t port, const std::string& target, const std::string& token,
                  const std::string& accept_encoding) {
  GetResult r = Get(port, target, token, accept_encoding);
  if (r.status != 200) {
    std::cerr << "gateway-bench: " << target << " -> " << r.status << " " << r.body << "\n";
    std::exit(1);
  }
  return r.ms;
}

// wrk prints durations as 812.00us, 2.41ms or 1.02s.
double WrkMs(const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  std::string unit(end);
  return unit == "us" ? v / 1000 : unit == "s" ? v * 1000 : unit == "m" ? v * 60000 : v;
}

// The same phase as Load, driven by wrk; nullopt (and a message) when wrk
// could not run or printed nothing we can read.
std::optional<LoadResult> LoadWithWrk(uint16_t port, const std::string& target,
                                      const std::string& token, const std::string& accept_encoding,
                                      int connections, int seconds) {
  const int threads = std::max(
      1, std::min<int>(connections, static_cast<int>(std::thread::hardware_concurrency())));
  std::vector<std::string> argv = {"wrk", "-t" + std::to_string(threads),
                                   "-c" + std::to_string(connections),
                                   "-d" + std::to_string(seconds) + "s", "--latency"};
  if (!token.empty()) {
    argv.push_back("-H");
    argv.push_back("Authorization: Bearer " + token);
  }
  if (!accept_encoding.empty()) {
    argv.push_back("-H");
    argv.push_back("Accept-Encoding: " + accept_encoding);
  }
  argv.push_back("http://127.0.0.1:" + std::to_string(port) + target);
  const auto cpu_before = CpuJiffies();
  RunResult run = Run(argv);
  const auto cpu_after = CpuJiffies();
  LoadResult r;
  bool have_rate = false;
  std::istringstream lines(run.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string first, second;
    words >> first >> second;
    if (first == "Requests/sec:") {
      r.rate = std::strtod(second.c_str(), nullptr);
      have_rate = true;
    } else if (first == "50%") {
      r.p50_ms = WrkMs(second);
    } else if (first == "99%") {
      r.p99_ms = WrkMs(second);
    } else if (second == "requests") {
      r.requests = std::strtol(first.c_str(), nullptr, 10);
    } else if (first == "Non-2xx") {
      r.errors += std::strtol(line.substr(line.rfind(':') + 1).c_str(), nullptr, 10);
    } else if (first == "Socket" && second == "errors:") {
      long connect = 0, read = 0, write = 0, timeout = 0;
      if (std::sscanf(line.c_str(), " Socket errors: connect %ld, read %ld, write %ld, timeout %ld",
                      &connect, &read, &write, &timeout) == 4) {
        r.errors += connect + read + write + timeout;
      }
    }
  }
  if (run.status != 0 || !have_rate) {
    std::cerr << "gateway-bench: wrk failed (exit " << run.status << ")"
              << (run.status == 127 ? ": is it installed? (Debian: apt-get install wrk)" : "")
              << "\n"
              << run.err.substr(0, 2000) << run.out.substr(0, 2000) << "\n";
    return std::nullopt;
  }
  r.cpu_us = CpuUsPerRequest(cpu_before, cpu_after, r.requests);
  r.busy = BusyShare(cpu_before, cpu_after);
  return r;
}

struct Server {
  pid_t pid = -1;
  uint16_t port = 0;
};

Server StartServer(const Options& o, const std::string& dir) {
  std::string out = dir + "/serve.out";
  Server s;
  std::fflush(nullptr);
  s.pid = fork();
  if (s.pid == 0) {
    if (!freopen(out.c_str(), "w", stdout) || !freopen((dir + "/serve.log").c_str(), "w", stderr)) _exit(127);
    execl(o.gateway.c_str(), o.gateway.c_str(), "serve", "--dir", dir.c_str(), "--listen", "127.0.0.1:0",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Up to 10 minutes: serve checks the database's integrity first, which
  // reads all of it (a minute or more for 10,000,000 persons when the page
  // cache holds none of it, e.g. right after the 1 GB ingest).
  for (int i = 0; i < 6000 && s.port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::ifstream in(out);
    std::string line;
    if (std::getline(in, line) && line.rfind("listening on http://127.0.0.1:", 0) == 0) {
      s.port = static_cast<uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
    }
  }
  if (s.port == 0) {
    std::cerr << "gateway-bench: the server did not start\n";
    std::exit(1);
  }
  return s;
}

void StopServer(Server& s) {
  kill(s.pid, SIGTERM);
  int status = 0;
  waitpid(s.pid, &status, 0);
}

const char* Verdict(bool ok) { return ok ? "PASS" : "FAIL"; }

constexpr const char* kUsage =
    "usage: gateway-bench --gateway PATH --gwgen PATH --work DIR\n"
    "                     [--persons N] [--query-persons N] [--runs N] [--connections N]\n"
    "                     [--seconds N] [--uzb-bytes N] [--only ingest,memory,query,push]\n"
    "                     [--attach PORT] [--client builtin|wrk]\n"
    "Measures the performance targets of docs/performance.md (scripts/bench.sh runs it).\n";

// A whole number >= 1 (a port, a count, seconds), or nullopt.
std::optional<long> PositiveNumber(const std::string& v) {
  if (v.empty() || v.size() > 15 || v.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  long n = std::stol(v);
  if (n < 1) return std::nullopt;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--help" || k == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (i + 1 >= argc) {
      std::cerr << "gateway-bench: option " << k << " needs a value\n" << kUsage;
      return 2;
    }
    std::string v = argv[i + 1];
    if (k == "--gateway") o.gateway = v;
    else if (k == "--gwgen") o.gwgen = v;
    else if (k == "--work") o.work = v;
    else if (k == "--client") {
      if (v != "builtin" && v != "wrk") {
        std::cerr << "gateway-bench: --client must be builtin or wrk, not \"" << v << "\"\n";
        return 2;
      }
      o.client = v;
    } else if (k == "--only") {
      o.only = v;
      std::stringstream parts(v);
      for (std::string part; std::getline(parts, part, ',');) {
        if (part != "ingest" && part != "memory" && part != "query" && part != "push") {
          std::cerr << "gateway-bench: --only: unknown part \"" << part
                    << "\" (known: ingest, memory, query, push)\n";
          return 2;
        }
      }
    } else {
      long* target = k == "--persons"         ? &o.persons
                     : k == "--query-persons" ? &o.query_persons
                     : k == "--uzb-bytes"     ? &o.uzb_bytes
                                              : nullptr;
      int* small = k == "--runs"          ? &o.runs
                   : k == "--connections" ? &o.connections
                   : k == "--seconds"     ? &o.seconds
                   : k == "--attach"      ? &o.attach_port
                                          : nullptr;
      if (target == nullptr && small == nullptr) {
        std::cerr << "gateway-bench: unknown option " << k << "\n" << kUsage;
        return 2;
      }
      auto n = PositiveNumber(v);
      if (!n || (small != nullptr && *n > 65535)) {
        std::cerr << "gateway-bench: " << k << " must be a whole number from 1"
                  << (small != nullptr ? " to 65535" : "") << ", not \"" << v << "\"\n";
        return 2;
      }
      if (target != nullptr)
        *target = *n;
      else
        *small = static_cast<int>(*n);
    }
  }
  o.gateway = fs::absolute(o.gateway).string();
  o.gwgen = fs::absolute(o.gwgen).string();
  fs::create_directories(o.work);
  const std::string w = fs::absolute(o.work).string();
  const std::string kaz = w + "/kaz-1.csv";
  bool all_pass = true;
  std::cout << "gateway-bench: " << std::thread::hardware_concurrency() << " CPUs, work dir " << w << "\n";
  if (!fs::exists(kaz)) {
    MustRun({o.gwgen, "--profile", "kaz-1", "--persons", std::to_string(o.persons), "--seed", "11",
             "--ref-date", "2023-12-31", "--invalid-rate", "0", "--out", kaz});
  }

  double ingest_rss = 0;
  if (o.Wants("ingest")) {
    std::vector<double> gw_times, sqlite_times;
    std::string rows_csv = w + "/normalised.csv";
    for (int run = 0; run < o.runs; ++run) {
      std::string dir = w + "/ingest-" + std::to_string(run);
      fs::remove_all(dir);
      MustRun({o.gateway, "init", dir});
      RunResult r = MustRun({o.gateway, "ingest", "--dir", dir, "--country", "KAZ", "--ref-date", "2023-12-31",
                             "--profile", "kaz-1", kaz});
      gw_times.push_back(r.seconds);
      ingest_rss = std::max(ingest_rss, r.max_rss_mb);
      if (run == 0) {
        MustRun({"sqlite3", "-csv", dir + "/data/gateway.db",
                 "SELECT snapshot_id, hex(person_key), pop_type, coo, sex, age, region, reg_month, valid_until, "
                 "in_stock FROM persons"},
                "/dev/null", rows_csv);
      }
      fs::remove_all(dir);
      std::string db = w + "/sqlite-" + std::to_string(run) + ".db";
      fs::remove(db);
      fs::remove(db + "-wal");
      fs::remove(db + "-shm");
      Write(w + "/import.sql",
            "PRAGMA journal_mode=WAL;\nCREATE TABLE persons (snapshot_id INTEGER NOT NULL, person_key BLOB NOT "
            "NULL, pop_type TEXT NOT NULL, coo TEXT NOT NULL, sex TEXT NOT NULL, age TEXT NOT NULL, region TEXT "
            "NOT NULL, reg_month TEXT NOT NULL, valid_until TEXT, in_stock INTEGER NOT NULL, PRIMARY KEY "
            "(snapshot_id, person_key)) WITHOUT ROWID;\n.mode csv\n.import " + rows_csv + " persons\n");
      RunResult s = MustRun({"sqlite3", db}, w + "/import.sql");
      sqlite_times.push_back(s.seconds);
      fs::remove(db);
      fs::remove(db + "-wal");
      fs::remove(db + "-shm");
    }
    double g = Median(gw_times), s = Median(sqlite_times), ratio = g / s;
    bool ok = ratio <= 2.0;
    all_pass &= ok;
    std::printf("\n[ingest] %ld kaz-1 persons, median of %d\n", o.persons, o.runs);
    std::printf("  gateway ingest (parse, validate, pseudonymise, store, commit): %.2f s  (%.0f rows/s)\n", g,
                o.persons / g);
    std::printf("  sqlite3 .import of the normalised rows (WAL, key order):      %.2f s\n", s);
    std::printf("  ratio %.2f (target <= 2.0)  %s\n", ratio, Verdict(ok));
  }

  if (o.Wants("memory")) {
    std::string uzb = w + "/uzb-1.json";
    if (!fs::exists(uzb)) {
      MustRun({o.gwgen, "--profile", "uzb-1", "--min-bytes", std::to_string(o.uzb_bytes), "--seed", "12",
               "--ref-date", "2023-12-31", "--invalid-rate", "0", "--out", uzb});
    }
    std::string dir = w + "/memory";
    fs::remove_all(dir);
    MustRun({o.gateway, "init", dir});
    if (ingest_rss == 0) {
      ingest_rss = MustRun({o.gateway, "ingest", "--dir", dir, "--country", "KAZ", "--ref-date", "2023-12-31",
                            "--profile", "kaz-1", kaz}).max_rss_mb;
    }
    RunResult r = MustRun({o.gateway, "ingest", "--dir", dir, "--country", "UZB", "--ref-date", "2023-12-31",
                           "--profile", "uzb-1", uzb});
    fs::remove_all(dir);
    bool ok = ingest_rss <= 200 && r.max_rss_mb <= 200;
    all_pass &= ok;
    std::printf("\n[memory] peak RSS\n  kaz-1, %ld persons: %.0f MB\n  uzb-1, %.2f GB: %.0f MB in %.1f s\n"
                "  target <= 200 MB  %s\n",
                o.persons, ingest_rss, fs::file_size(uzb) / 1e9, r.max_rss_mb, r.seconds, Verdict(ok));
  }

  if (o.Wants("query") || o.Wants("push")) {
    std::string dir = w + "/query";
    // The deployment is kept between runs, but only while it is what this run
    // asks for: built (by this rule) for the same number of persons, and not
    // grown past kMaxGrowth times its built size. Every release adds an audit entry of
    // about 300 bytes, so after many runs the audit log, not the persons, fills
    // the file, and the serve start (quick_check reads every page) grows with
    // it: 14 GB and 17 minutes from a cold page cache on 30 November 2026.
    const std::string marker = dir + "/bench-built";
    constexpr uintmax_t kMaxGrowth = 2;
    long built_persons = 0;
    uintmax_t built_bytes = 0;
    std::ifstream(marker) >> built_persons >> built_bytes;
    const std::string db = dir + "/data/gateway.db";
    std::error_code size_error;
    const uintmax_t db_bytes = fs::file_size(db, size_error);
    const bool reuse = fs::exists(dir + "/gateway.toml") && built_persons == o.query_persons &&
                       built_bytes > 0 && !size_error && db_bytes <= kMaxGrowth * built_bytes;
    if (!reuse && o.attach_port != 0) {
      // The attached server is serving this deployment: never pull it away.
      if (!fs::exists(dir + "/token")) {
        std::fprintf(stderr, "gateway-bench: --attach needs the deployment %s (run once without it)\n",
                     dir.c_str());
        return 1;
      }
    } else if (!reuse && fs::exists(dir)) {
      const std::string why =
          built_persons == 0
              ? "it has no bench-built marker (an older gateway-bench, or a build that failed)"
          : built_persons != o.query_persons
              ? "it holds another number of persons"
              : "its database grew past " + std::to_string(kMaxGrowth) + " times its built size";
      std::printf("\n[query data] rebuilding %s: %s\n", dir.c_str(), why.c_str());
      fs::remove_all(dir);
    }
    if (!reuse && o.attach_port == 0) {
      MustRun({o.gateway, "init", dir});
      auto t0 = Clock::now();
      const char* profiles[][3] = {{"KAZ", "kaz-1", "csv"}, {"KGZ", "kgz-1", "xml"}, {"TJK", "tjk-1", "csv"},
                                   {"TKM", "tkm-1", "csv"}, {"UZB", "uzb-1", "json"}};
      for (auto& p : profiles) {
        std::string file = w + "/q-" + p[1] + "." + p[2];
        MustRun({o.gwgen, "--profile", p[1], "--persons", std::to_string(o.query_persons / 5), "--seed", "13",
                 "--ref-date", "2023-12-31", "--invalid-rate", "0", "--out", file});
        MustRun({o.gateway, "ingest", "--dir", dir, "--country", p[0], "--ref-date", "2023-12-31", "--profile",
                 p[1], file});
        fs::remove(file);
      }
      std::printf("\n[query data] %ld persons over five countries generated and ingested in %.0f s\n",
                  o.query_persons, std::chrono::duration<double>(Clock::now() - t0).count());
      Write(dir + "/policies/bench.toml", Grants(100.0));
      Write(dir + "/token", FirstLine(MustRun({o.gateway, "consumer", "add", "bench", "--dir", dir}).out));
      Write(dir + "/operator", FirstLine(MustRun({o.gateway, "consumer", "add", "ops", "--dir", dir, "--role",
                                                  "operator"}).out));
      // The ministry key registered with the deployment signs the push phase's
      // uploads; the files of an earlier deployment are replaced.
      fs::remove(w + "/kaz.key");
      fs::remove(w + "/kaz.pub");
      fs::remove(w + "/kaz.pseudonym.key");
      MustRun({o.gateway, "keygen", "--out", w + "/kaz"});
      MustRun({o.gateway, "country", "add", "KAZ", "--dir", dir, "--pubkey", w + "/kaz.pub"});
      built_bytes = fs::file_size(db);
      Write(marker, std::to_string(o.query_persons) + " " + std::to_string(built_bytes) + "\n");
    }
    if (built_bytes > 0) {
      std::printf(
          "\n[query data] database %.2f GB (%.2f GB when built; rebuilt past %ju times that)\n",
          static_cast<double>(fs::file_size(db, size_error)) / 1e9,
          static_cast<double>(built_bytes) / 1e9, kMaxGrowth);
    }
    std::string token, op;
    std::getline(std::ifstream(dir + "/token"), token);
    std::getline(std::ifstream(dir + "/operator"), op);
    const auto start_began = Clock::now();
    Server server;
    if (o.attach_port != 0) {
      server.port = static_cast<uint16_t>(o.attach_port);
      std::printf("\n[serve] attached to the server on 127.0.0.1:%d\n", o.attach_port);
    } else {
      server = StartServer(o, dir);
      std::printf("\n[serve] started in %.1f s (integrity check of the database included)\n",
                  std::chrono::duration<double>(Clock::now() - start_began).count());
    }

    if (o.Wants("query")) {
      const std::string one = "/v1/aggregates?ref_date=2023-12-31&coa=KAZ&by=pop_type,coo,sex";
      const std::string all = "/v1/aggregates?ref_date=2023-12-31&by=coa,pop_type";
      // As the phases below, asking for gzip (which a first answer also pays for).
      double first_one = TimedGetMs(server.port, one, token, "gzip");
      double first_all = TimedGetMs(server.port, all, token, "gzip");
      double repeat_one = TimedGetMs(server.port, one, token, "gzip");
      // Side by side in each run; the run with the median ratio is reported
      // for each query, the others listed. The query phases ask for gzip as
      // Python requests, R httr and browsers do by default (curl with
      // --compressed); /healthz, the baseline, is asked without it. The KAZ
      // table is also measured for a client that does not ask, which gets the
      // 66 KB identity answer.
      const std::string gzip = "gzip";
      std::vector<LoadResult> hs, as, bs, is;
      const size_t healthz_bytes = Get(server.port, "/healthz", "").body.size();
      const size_t one_bytes = Get(server.port, one, token, gzip).body.size();
      const size_t all_bytes = Get(server.port, all, token, gzip).body.size();
      const size_t one_identity_bytes = Get(server.port, one, token).body.size();
      auto audit_totals = [&] {
        AuditTotals t;
        GetResult m = Get(server.port, "/metrics", op);
        if (m.status != 200) return t;
        for (auto [name, field] :
             {std::pair<std::string_view, double*>{"gateway_audit_entries_total ", &t.entries},
              {"gateway_audit_commits_total ", &t.commits},
              {"gateway_audit_wait_seconds_total ", &t.wait_s}}) {
          size_t at = m.body.find("\n" + std::string(name));
          if (at != std::string::npos)
            *field = std::strtod(m.body.c_str() + at + 1 + name.size(), nullptr);
        }
        return t;
      };
      auto phase = [&](const std::string& target, const std::string& bearer,
                       const std::string& accept_encoding, size_t bytes) {
        const AuditTotals before = audit_totals();
        LoadResult r;
        if (o.client == "builtin") {
          r = Load(server.port, target, bearer, accept_encoding, o.connections, o.seconds);
        } else {
          std::optional<LoadResult> wrk =
              LoadWithWrk(server.port, target, bearer, accept_encoding, o.connections, o.seconds);
          if (!wrk) {
            if (o.attach_port == 0) StopServer(server);
            std::exit(1);
          }
          r = *wrk;
          r.body_bytes = bytes;
        }
        r.audit = audit_totals() - before;
        return r;
      };
      for (int run = 0; run < o.runs; ++run) {
        hs.push_back(phase("/healthz", "", "", healthz_bytes));
        as.push_back(phase(one, token, gzip, one_bytes));
        bs.push_back(phase(all, token, gzip, all_bytes));
        is.push_back(phase(one, token, "", one_identity_bytes));
      }
      std::printf(
          "\n[query] %ld persons stored, %d keep-alive connections, %d s each, %d run%s, client "
          "%s; the queries ask for gzip unless said otherwise\n",
          o.query_persons, o.connections, o.seconds, o.runs, o.runs == 1 ? "" : "s",
          o.client.c_str());
      std::printf("  first query of a new table (budget debit, noise over its domain): by=pop_type,coo,sex "
                  "%.1f ms; by=coa,pop_type %.1f ms; a repeat %.1f ms\n", first_one, first_all, repeat_one);
      auto line = [&](const std::string& name, const LoadResult& r) {
        std::printf(
            "  %-38s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  %4.0f us CPU/req  busy %3.0f %%  "
            "%6zu B  "
            "(%ld requests, %ld errors)\n",
            name.c_str(), r.rate, r.p50_ms, r.p99_ms, r.cpu_us, r.busy * 100, r.body_bytes,
            r.requests, r.errors);
        if (r.audit.commits > 0 && r.audit.entries > 0) {
          std::printf(
              "  %-38s %.0f entries in %.0f commits (%.1f per fsync), %.2f ms mean wait per "
              "entry\n",
              "  audit log", r.audit.entries, r.audit.commits, r.audit.entries / r.audit.commits,
              r.audit.wait_s * 1e3 / r.audit.entries);
        }
      };
      for (int run = 0; run < o.runs; ++run) {
        const std::string tag = o.runs > 1 ? " [run " + std::to_string(run + 1) + "]" : "";
        line("/healthz" + tag, hs[run]);
        line("by=pop_type,coo,sex (KAZ)" + tag, as[run]);
        line("by=coa,pop_type (all five)" + tag, bs[run]);
        line("by=pop_type,coo,sex, identity" + tag, is[run]);
      }
      struct Judged {
        const char* name;
        const std::vector<LoadResult>* runs;
        bool judged;  // counts towards "all targets met"
      };
      for (const Judged& q :
           {Judged{"by=pop_type,coo,sex", &as, true}, Judged{"by=coa,pop_type", &bs, true},
            Judged{"by=pop_type,coo,sex, identity", &is, false}}) {
        std::vector<std::pair<double, int>> ratios;
        for (int run = 0; run < o.runs; ++run)
          ratios.emplace_back((*q.runs)[run].rate / hs[run].rate, run);
        std::sort(ratios.begin(), ratios.end());
        const auto [ratio, median_run] = ratios[ratios.size() / 2];
        const LoadResult& r = (*q.runs)[median_run];
        bool ok = ratio >= 0.5 && r.p99_ms <= 10 && r.errors == 0;
        if (q.judged) all_pass &= ok;
        std::printf(
            "  %-30s ratio to /healthz %.2f (target >= 0.5), p99 %.2f ms (target <= 10)%s  %s\n",
            q.name, ratio, r.p99_ms, o.runs > 1 ? " (median run)" : "",
            q.judged ? Verdict(ok)
            : ok     ? "(reported) met"
                     : "(reported) below");
      }
    }

    if (o.Wants("push")) {
      std::string url = "http://127.0.0.1:" + std::to_string(server.port);
      // A reference date of its own (a day later each run), so each push is a new snapshot.
      static const char* kDates[] = {"2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"};
      std::string date = kDates[std::time(nullptr) % 5];
      RunResult r = MustRun({o.gateway, "push", "--url", url, "--key", w + "/kaz.key", "--country", "KAZ",
                             "--ref-date", date, "--profile", "kaz-1", kaz});
      std::string metrics = Get(server.port, "/metrics", op).body;
      // The server's own time for the upload: the PUT route's duration sum.
      double server_seconds = 0;
      std::istringstream lines(metrics);
      std::string l;
      const std::string key =
          "gateway_http_request_duration_seconds_sum{route=\"/v1/snapshots/{country}/{ref_date}\"} ";
      while (std::getline(lines, l)) {
        if (l.rfind(key, 0) == 0) server_seconds = std::stod(l.substr(key.size()));
      }
      std::printf("\n[push] %ld kaz-1 persons with gateway push (adapter and pseudonymisation on the ministry "
                  "side, signed shared-v1 upload)\n", o.persons);
      std::printf("  client: %.1f s end to end, %.0f rows/s\n", r.seconds, o.persons / r.seconds);
      if (server_seconds > 0) {
        std::printf("  server: shared-v1 upload ingested in %.1f s, %.0f rows/s\n", server_seconds,
                    o.persons / server_seconds);
      }
    }
    if (o.attach_port == 0) StopServer(server);
  }
  std::printf("\n%s\n", all_pass ? "all targets met" : "SOME TARGETS MISSED");
  return all_pass ? 0 : 1;
}
