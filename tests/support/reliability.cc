#include "support/reliability.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <tuple>

#include "support/http_client.h"

namespace gw::test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string GwgenBin() { return (fs::path(GW_GATEWAY_BIN).parent_path() / "gwgen").string(); }

namespace {

int OpenFor(const std::string& path, int flags) {
  if (path.empty()) return open("/dev/null", flags & O_ACCMODE);
  return open(path.c_str(), flags, 0600);
}

// Forks and execs; only async-signal-safe calls between fork and exec.
pid_t Spawn(const std::vector<std::string>& args, const SpawnOptions& o, int stdout_fd) {
  std::vector<std::string> storage = args;
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  // Opened before the fork: open() is async-signal-safe, but error handling is simpler here.
  int in = OpenFor(o.stdin_path, O_RDONLY);
  int out = stdout_fd >= 0 ? dup(stdout_fd) : OpenFor(o.stdout_path, O_WRONLY | O_CREAT | O_TRUNC);
  int err = OpenFor(o.stderr_path, O_WRONLY | O_CREAT | (o.append_stderr ? O_APPEND : O_TRUNC));
  if (in < 0 || out < 0 || err < 0) throw std::runtime_error("cannot open the child's standard streams");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    // Nothing else of the test process (client sockets, pipes) leaks into the child.
    close_range(3, ~0U, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (o.file_size_limit >= 0) {
      signal(SIGXFSZ, SIG_IGN);  // inherited across exec: writes fail with EFBIG instead
      rlimit lim{static_cast<rlim_t>(o.file_size_limit), static_cast<rlim_t>(o.file_size_limit)};
      if (setrlimit(RLIMIT_FSIZE, &lim) != 0) _exit(126);
    }
    if (o.uid >= 0 && setgroups(0, nullptr) != 0) _exit(126);
    if (o.gid >= 0 && setgid(static_cast<gid_t>(o.gid)) != 0) _exit(126);
    if (o.uid >= 0 && setuid(static_cast<uid_t>(o.uid)) != 0) _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(in);
  close(out);
  close(err);
  return pid;
}

int DecodeStatus(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace

// ---- Child --------------------------------------------------------------------------

Child::Child(const std::vector<std::string>& argv, const SpawnOptions& options, int stdout_fd)
    : pid_(Spawn(argv, options, stdout_fd)) {}

Child& Child::operator=(Child&& o) noexcept {
  if (this != &o) {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    pid_ = o.pid_;
    status_ = o.status_;
    o.pid_ = -1;
  }
  return *this;
}

Child::~Child() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

bool Child::running() { return pid_ > 0 && !Wait(Ms(0)).has_value(); }

void Child::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

std::optional<int> Child::Wait(Ms timeout) {
  if (pid_ <= 0) return status_ < 0 ? std::nullopt : std::optional<int>(status_);
  const auto deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      status_ = DecodeStatus(status);
      return status_;
    }
    if (r < 0 && errno != EINTR) {
      pid_ = -1;
      status_ = 255;
      return status_;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(Ms(2));
  }
}

ProcessResult RunGatewayWith(const std::vector<std::string>& args, SpawnOptions options, Ms timeout) {
  TempDir tmp;
  if (options.stdout_path.empty()) options.stdout_path = tmp.path() + "/out";
  if (options.stderr_path.empty()) options.stderr_path = tmp.path() + "/err";
  if (options.uid >= 0) {  // the dropped user must be able to write them
    WriteFile(options.stdout_path, "");
    WriteFile(options.stderr_path, "");
    if (chown(tmp.path().c_str(), static_cast<uid_t>(options.uid), static_cast<gid_t>(options.gid)) != 0 ||
        chown(options.stdout_path.c_str(), static_cast<uid_t>(options.uid), static_cast<gid_t>(options.gid)) != 0 ||
        chown(options.stderr_path.c_str(), static_cast<uid_t>(options.uid), static_cast<gid_t>(options.gid)) != 0) {
      throw std::runtime_error("chown of the output files failed");
    }
  }
  std::vector<std::string> argv = {GW_GATEWAY_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  Child child(argv, options);
  ProcessResult r;
  auto code = child.Wait(timeout);
  if (!code) {
    child.Signal(SIGKILL);
    code = child.Wait(Ms(5000));
    r.err = "[killed after the timeout]\n";
  }
  r.exit_code = code.value_or(-1);
  std::error_code ec;
  if (fs::exists(options.stdout_path, ec)) r.out = ReadFile(options.stdout_path);
  if (fs::exists(options.stderr_path, ec)) r.err += ReadFile(options.stderr_path);
  return r;
}

// ---- GatewayServer ---------------------------------------------------------------------

GatewayServer::GatewayServer(const std::string& dir, SpawnOptions options, Ms startup) : dir_(dir) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  if (options.stderr_path.empty()) {
    options.stderr_path = dir + "/server.stderr.log";
    options.append_stderr = true;
  }
  child_ = Child({GW_GATEWAY_BIN, "serve", "--dir", dir, "--listen", "127.0.0.1:0"}, options, fds[1]);
  close(fds[1]);
  // "listening on http://127.0.0.1:PORT" once it accepts connections.
  std::string line;
  const auto deadline = Clock::now() + startup;
  while (Clock::now() < deadline) {
    pollfd p{fds[0], POLLIN, 0};
    auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
    int r = poll(&p, 1, static_cast<int>(std::max<int64_t>(1, left)));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    char c;
    ssize_t n = read(fds[0], &c, 1);
    if (n <= 0) break;  // EOF: the server exited
    if (c == '\n') break;
    line += c;
  }
  close(fds[0]);
  auto colon = line.rfind(':');
  if (line.find("listening on") != std::string::npos && colon != std::string::npos) {
    port_ = static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
  } else if (child_.Wait(Ms(5000)) == std::nullopt) {
    child_.Signal(SIGKILL);  // neither listening nor gone: give up on it
    child_.Wait(Ms(5000));
  }
}

void GatewayServer::Kill() {
  child_.Signal(SIGKILL);
  child_.Wait(Ms(10000));
}

std::optional<int> GatewayServer::Terminate(Ms timeout) {
  child_.Signal(SIGTERM);
  auto code = child_.Wait(timeout);
  if (!code) {
    child_.Signal(SIGKILL);
    child_.Wait(Ms(10000));
  }
  return code;
}

std::string GatewayServer::Log() const {
  std::error_code ec;
  if (!fs::exists(dir_ + "/server.stderr.log", ec)) return "";
  return ReadFile(dir_ + "/server.stderr.log");
}

// ---- Raw loopback sockets ------------------------------------------------------------------

int ConnectLoopback(uint16_t port, int rcvbuf) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool SendAll(int fd, std::string_view bytes, Ms timeout) {
  const auto deadline = Clock::now() + timeout;
  size_t sent = 0;
  while (sent < bytes.size()) {
    auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLOUT, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

std::string ReadUntilClosed(int fd, Ms timeout, bool* closed, size_t max) {
  std::string out;
  *closed = false;
  const auto deadline = Clock::now() + timeout;
  char buf[16384];
  while (out.size() < max) {
    auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) {
      *closed = true;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

int FirstStatus(const std::string& bytes) {
  static const std::regex kStatus(R"(^HTTP/1\.[01] ([0-9]{3}) )");
  std::smatch m;
  if (std::regex_search(bytes, m, kStatus)) return std::stoi(m[1].str());
  return 0;
}

int64_t RaiseFdLimit(int64_t want) {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  rlim_t target = std::min<rlim_t>(lim.rlim_max, static_cast<rlim_t>(want));
  if (lim.rlim_cur < target) {
    lim.rlim_cur = target;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  getrlimit(RLIMIT_NOFILE, &lim);
  return static_cast<int64_t>(lim.rlim_cur);
}

// ---- /proc ---------------------------------------------------------------------------------

int64_t RssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

int FdCount(pid_t pid) {
  std::error_code ec;
  int n = 0;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return ec ? -1 : n;
}

// ---- HTTP helpers ----------------------------------------------------------------------------

Reply HttpGet(uint16_t port, const std::string& target, const std::string& token, Ms timeout) {
  Reply out;
  testing::HttpClient client(port, timeout);
  if (Status s = client.Connect(); !s.ok()) {
    out.error = s.ToString();
    return out;
  }
  std::vector<std::pair<std::string, std::string>> headers;
  if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
  auto r = client.Send("GET", target, {}, headers);
  if (!r.ok()) {
    out.error = r.status().ToString();
    return out;
  }
  out.status = r->status;
  out.body = r->body;
  return out;
}

Reply SignedUpload(uint16_t port, const std::string& country, const std::string& ref_date,
                   const std::string& query, const std::string& body, const std::string& content_type,
                   const std::string& keyid, const Keypair& key, const std::string& nonce, Ms timeout) {
  Reply out;
  const std::string target = "/v1/snapshots/" + country + "/" + ref_date + "?" + query;
  auto headers = SignedUploadHeaders(port, target, body, content_type, keyid, key, nonce, Now());
  testing::HttpClient client(port, timeout);
  if (Status s = client.Connect(); !s.ok()) {
    out.error = s.ToString();
    return out;
  }
  auto r = client.Send("PUT", target, body, headers);
  if (!r.ok()) {
    out.error = r.status().ToString();
    return out;
  }
  out.status = r->status;
  out.body = r->body;
  return out;
}

namespace {

// Reads one response head (and its Content-Length body) from a raw socket.
Reply ReadRawResponse(int fd, std::string& buffer, Ms timeout) {
  Reply out;
  const auto deadline = Clock::now() + timeout;
  char buf[16384];
  auto fill = [&]() -> bool {
    auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    buffer.append(buf, static_cast<size_t>(n));
    return true;
  };
  size_t end;
  while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) {
      out.error = "no complete response head";
      return out;
    }
  }
  const std::string head = buffer.substr(0, end + 4);
  buffer.erase(0, end + 4);
  out.status = FirstStatus(head);
  static const std::regex kLength(R"([Cc]ontent-[Ll]ength: *([0-9]+))");
  std::smatch m;
  size_t length = std::regex_search(head, m, kLength) ? std::stoul(m[1].str()) : 0;
  while (buffer.size() < length) {
    if (!fill()) {
      out.error = "response body cut short";
      out.status = 0;
      return out;
    }
  }
  out.body = buffer.substr(0, length);
  buffer.erase(0, length);
  return out;
}

}  // namespace

Reply SignedUploadExpectingContinue(uint16_t port, const std::string& country, const std::string& ref_date,
                                    const std::string& query, const std::string& body,
                                    const std::string& content_type, const std::string& keyid, const Keypair& key,
                                    const std::string& nonce, Ms timeout) {
  Reply out;
  const std::string target = "/v1/snapshots/" + country + "/" + ref_date + "?" + query;
  std::string head = "PUT " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                     "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nExpect: 100-continue\r\n";
  for (const auto& [k, v] : SignedUploadHeaders(port, target, body, content_type, keyid, key, nonce, Now())) {
    head += k + ": " + v + "\r\n";
  }
  head += "\r\n";
  int fd = ConnectLoopback(port);
  if (fd < 0) {
    out.error = "connect failed";
    return out;
  }
  std::string buffer;
  if (!SendAll(fd, head, timeout)) {
    close(fd);
    out.error = "head not sent";
    return out;
  }
  Reply first = ReadRawResponse(fd, buffer, timeout);
  if (first.status != 100) {
    close(fd);
    return first;
  }
  if (!SendAll(fd, body, timeout)) {
    close(fd);
    out.error = "body not sent";
    return out;
  }
  out = ReadRawResponse(fd, buffer, timeout);
  close(fd);
  return out;
}

// ---- Generated registers -------------------------------------------------------------------

Generated GenerateKaz(const std::string& path, int64_t persons, int seed, const std::string& ref_date) {
  const std::string err = path + ".gwgen.log";
  Child gen({GwgenBin(), "--profile", "kaz-1", "--persons", std::to_string(persons), "--seed",
             std::to_string(seed), "--ref-date", ref_date, "--out", path},
            SpawnOptions{"", "", err});
  auto code = gen.Wait(Ms(120000));
  if (code != 0) throw std::runtime_error("gwgen failed (is it built? " + GwgenBin() + "): " + ReadFile(err));
  const std::string summary = ReadFile(err);
  static const std::regex kSummary(R"(([0-9]+) rows, ([0-9]+) valid \(([0-9]+) expired, ([0-9]+) in stock\))");
  std::smatch m;
  if (!std::regex_search(summary, m, kSummary)) throw std::runtime_error("unexpected gwgen summary: " + summary);
  Generated g;
  g.path = path;
  g.rows = std::stoll(m[1].str());
  g.valid = std::stoll(m[2].str());
  g.expired = std::stoll(m[3].str());
  g.in_stock = std::stoll(m[4].str());
  g.bytes = static_cast<int64_t>(fs::file_size(path));
  return g;
}

// ---- Site --------------------------------------------------------------------------------------

namespace {

std::string MustRun(const std::vector<std::string>& args) {
  ProcessResult r = RunGateway(args);
  if (r.exit_code != 0) {
    std::string cmd;
    for (const auto& a : args) cmd += a + " ";
    throw std::runtime_error("gateway " + cmd + "failed: " + r.err);
  }
  return FirstLine(r);
}

}  // namespace

Site::Site(const std::string& server_toml, const std::string& extra_toml) {
  dir_ = tmp_.path() + "/gw";
  MustRun({"init", dir_});
  WriteFile(dir_ + "/gateway.toml", "[server]\nlisten = \"127.0.0.1:0\"\n" + server_toml +
                                        "\n[storage]\ndatabase = \"data/gateway.db\"\n" + extra_toml + "\n");
  keyid_ = MustRun({"keygen", "--out", tmp_.path() + "/kaz"});
  MustRun({"country", "add", "KAZ", "--dir", dir_, "--pubkey", tmp_.path() + "/kaz.pub"});
  key_ = LoadKeyFile(tmp_.path() + "/kaz.key");
  op_ = MustRun({"consumer", "add", "op", "--role", "operator", "--dir", dir_});
  reader_ = MustRun({"consumer", "add", "reader", "--dir", dir_});
  WriteFile(dir_ + "/policies/reader.toml", R"([[grant]]
country = "KAZ"
consumer = "reader"
pop_types = ["REF", "ASY", "STA", "MIG"]
dimensions = ["coa", "coo", "pop_type", "sex", "age", "region"]
mechanism = "none"
)");
}

std::string Site::AddConsumer(const std::string& name, const std::string& role) {
  return MustRun({"consumer", "add", name, "--role", role, "--dir", dir_});
}

ProcessResult IngestKaz(const std::string& dir, const std::string& file, const std::string& ref_date,
                        SpawnOptions options) {
  return RunGatewayWith({"ingest", "--dir", dir, "--country", "KAZ", "--ref-date", ref_date, "--profile", "kaz-1",
                         "--partial", file},
                        std::move(options), Ms(120000));
}

// ---- Reading the store directly ----------------------------------------------------------------

std::vector<std::vector<std::string>> SqlRows(const std::string& db, const std::string& sql) {
  sqlite3* conn = nullptr;
  if (sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::string msg = conn ? sqlite3_errmsg(conn) : "out of memory";
    sqlite3_close(conn);
    throw std::runtime_error("cannot open " + db + ": " + msg);
  }
  // Leave the WAL as the gateway left it: no checkpoint when this closes.
  sqlite3_db_config(conn, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  sqlite3_busy_timeout(conn, 10000);
  sqlite3_exec(conn, "PRAGMA query_only=ON", nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(conn, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    std::string msg = sqlite3_errmsg(conn);
    sqlite3_close(conn);
    throw std::runtime_error("sql error: " + msg + " in: " + sql);
  }
  std::vector<std::vector<std::string>> rows;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(st); ++i) {
      const unsigned char* t = sqlite3_column_text(st, i);
      row.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
    }
    rows.push_back(std::move(row));
  }
  std::string msg = rc == SQLITE_DONE ? "" : sqlite3_errmsg(conn);
  sqlite3_finalize(st);
  sqlite3_close(conn);
  if (rc != SQLITE_DONE) throw std::runtime_error("sql error: " + msg + " in: " + sql);
  return rows;
}

int64_t SqlInt(const std::string& db, const std::string& sql) {
  auto rows = SqlRows(db, sql);
  if (rows.empty() || rows[0].empty() || rows[0][0].empty()) return 0;
  return std::stoll(rows[0][0]);
}

std::vector<std::string> StoreProblems(const std::string& db, bool full_integrity, int64_t budget_micro) {
  std::vector<std::string> problems;
  try {
    auto check = SqlRows(db, full_integrity ? "PRAGMA integrity_check" : "PRAGMA quick_check");
    if (check.size() != 1 || check[0][0] != "ok") {
      std::string what;
      for (const auto& r : check) what += r[0] + "; ";
      problems.push_back("integrity check: " + what);
      return problems;  // the rest would read damaged pages
    }
    if (int64_t n = SqlInt(db, "SELECT COUNT(*) FROM snapshots WHERE digest = '' OR receipt = ''"); n != 0) {
      problems.push_back(std::to_string(n) + " snapshot row(s) without digest or receipt (a half version)");
    }
    for (const auto& r : SqlRows(db,
                                 "SELECT country, ref_date, COUNT(*), MIN(version), MAX(version) FROM snapshots "
                                 "GROUP BY country, ref_date")) {
      if (r[2] != r[4] || r[3] != "1") {
        problems.push_back("versions of " + r[0] + "/" + r[1] + " are not 1.." + r[2] + " (min " + r[3] +
                           ", max " + r[4] + ")");
      }
    }
    for (const auto& r : SqlRows(db,
                                 "SELECT s.country, s.ref_date, s.version, (SELECT MAX(version) FROM snapshots t "
                                 "WHERE t.country = s.country AND t.ref_date = s.ref_date) "
                                 "FROM current_snapshots c JOIN snapshots s ON s.id = c.snapshot_id")) {
      if (r[2] != r[3]) {
        problems.push_back("current version of " + r[0] + "/" + r[1] + " is " + r[2] + ", the newest is " + r[3]);
      }
    }
    if (SqlInt(db, "SELECT COUNT(*) FROM current_snapshots") !=
        SqlInt(db, "SELECT COUNT(*) FROM (SELECT DISTINCT country, ref_date FROM snapshots)")) {
      problems.push_back("current_snapshots does not name one version per (country, ref_date)");
    }
    std::map<std::string, std::tuple<int64_t, int64_t, std::string, std::string>> snaps;  // id -> accepted, in_stock
    for (const auto& r : SqlRows(db, "SELECT id, accepted, in_stock, profile, country || '/' || ref_date || "
                                     "' v' || version FROM snapshots")) {
      snaps[r[0]] = {std::stoll(r[1]), std::stoll(r[2]), r[3], r[4]};
    }
    std::map<std::string, std::pair<int64_t, int64_t>> persons;
    for (const auto& r :
         SqlRows(db, "SELECT snapshot_id, COUNT(*), SUM(in_stock) FROM persons GROUP BY snapshot_id")) {
      persons[r[0]] = {std::stoll(r[1]), std::stoll(r[2])};
    }
    std::map<std::string, int64_t> cells;
    for (const auto& r : SqlRows(db, "SELECT snapshot_id, SUM(count) FROM cells GROUP BY snapshot_id")) {
      cells[r[0]] = std::stoll(r[1]);
    }
    for (const auto& [id, n] : persons) {
      if (!snaps.count(id)) problems.push_back(std::to_string(n.first) + " person(s) of a missing snapshot " + id);
    }
    for (const auto& [id, n] : cells) {
      if (!snaps.count(id)) problems.push_back("cells of a missing snapshot " + id);
    }
    for (const auto& [id, s] : snaps) {
      const auto& [accepted, in_stock, profile, name] = s;
      if (cells[id] != in_stock) {
        problems.push_back(name + ": cells sum to " + std::to_string(cells[id]) + ", the receipt says in_stock " +
                           std::to_string(in_stock));
      }
      if (profile != "tkm-1" && (persons[id].first != accepted || persons[id].second != in_stock)) {
        problems.push_back(name + ": " + std::to_string(persons[id].first) + " persons (" +
                           std::to_string(persons[id].second) + " in stock), the receipt says accepted " +
                           std::to_string(accepted) + ", in_stock " + std::to_string(in_stock));
      }
    }
    std::multiset<std::string> commits;
    for (const auto& r : SqlRows(db, "SELECT json_extract(detail, '$.country') || '/' || "
                                     "json_extract(detail, '$.ref_date') || ' v' || json_extract(detail, "
                                     "'$.version') FROM audit WHERE kind = 'snapshot.commit'")) {
      commits.insert(r[0]);
    }
    for (const auto& [id, s] : snaps) {
      if (commits.count(std::get<3>(s)) != 1) {
        problems.push_back(std::get<3>(s) + " has " + std::to_string(commits.count(std::get<3>(s))) +
                           " snapshot.commit audit entries");
      }
    }
    if (commits.size() != snaps.size()) {
      problems.push_back(std::to_string(commits.size()) + " snapshot.commit audit entries for " +
                         std::to_string(snaps.size()) + " versions");
    }
    if (int64_t n = SqlInt(db, "SELECT COUNT(*) FROM budget_ledger b WHERE NOT EXISTS (SELECT 1 FROM snapshots s "
                               "WHERE s.country = b.country AND s.ref_date = b.ref_date AND s.version = b.version)");
        n != 0) {
      problems.push_back(std::to_string(n) + " budget ledger row(s) name a version that does not exist");
    }
    if (budget_micro > 0) {
      for (const auto& r : SqlRows(db, "SELECT consumer, country, ref_date, SUM(epsilon_micro) FROM budget_ledger "
                                       "GROUP BY consumer, country, ref_date")) {
        if (std::stoll(r[3]) > budget_micro) {
          problems.push_back(r[0] + " spent " + r[3] + " micro-epsilon on " + r[1] + "/" + r[2] +
                             ", more than the budget " + std::to_string(budget_micro));
        }
      }
    }
  } catch (const std::exception& e) {
    problems.push_back(e.what());
  }
  return problems;
}

std::map<std::string, int64_t> VersionsInStock(const std::string& db) {
  std::map<std::string, int64_t> out;
  for (const auto& r : SqlRows(db, "SELECT country || '/' || ref_date || ' v' || version, in_stock FROM snapshots")) {
    out[r[0]] = std::stoll(r[1]);
  }
  return out;
}

}  // namespace gw::test
