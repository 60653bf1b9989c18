#include "support/test_deployment.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "gateway/crypto/keys.h"

namespace gw::test {

namespace fs = std::filesystem;

std::string FixturePath(const std::string& name) { return std::string(GW_FIXTURES_DIR) + "/" + name; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

nlohmann::json Truth(const std::string& name) { return nlohmann::json::parse(ReadFile(FixturePath(name))); }

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "gwtest-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

TestDeployment::TestDeployment() {
  std::string dir = tmp_.path() + "/gw";
  Status s = Deployment::Init(dir);
  if (!s.ok()) throw std::runtime_error(s.ToString());
  auto d = Deployment::Open(dir);
  if (!d.ok()) throw std::runtime_error(d.status().ToString());
  deployment_ = std::move(d).value();
}

void TestDeployment::WritePolicy(const std::string& file, const std::string& toml) {
  WriteFile(deployment_->dir() + "/policies/" + file, toml);
  Status s = deployment_->policies().Reload();
  if (!s.ok()) throw std::runtime_error(s.ToString());
}

std::string TestDeployment::AddConsumer(const std::string& name, const std::string& role) {
  auto key = deployment_->keys().TokenKey();
  if (!key.ok()) throw std::runtime_error(key.status().ToString());
  std::string token = "gwt_" + ToBase64Url(RandomBytes(32));
  Status s = deployment_->store().AddConsumer(name, role, HashToken(*key, token));
  if (!s.ok()) throw std::runtime_error(s.ToString());
  return token;
}

namespace {

std::vector<char*> Argv(const std::string& bin, const std::vector<std::string>& args,
                        std::vector<std::string>& storage) {
  storage = {bin};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  return argv;
}

}  // namespace

ProcessResult RunGateway(const std::vector<std::string>& args, const std::string& stdin_text) {
  TempDir tmp;
  std::string in_path = tmp.path() + "/in", out_path = tmp.path() + "/out", err_path = tmp.path() + "/err";
  WriteFile(in_path, stdin_text);
  std::vector<std::string> storage;
  auto argv = Argv(GW_GATEWAY_BIN, args, storage);
  pid_t pid = fork();
  if (pid == 0) {
    int in = open(in_path.c_str(), O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(in, 0), dup2(out, 1), dup2(err, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ProcessResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ReadFile(out_path);
  r.err = ReadFile(err_path);
  return r;
}

ServerProcess::ServerProcess(const std::string& dir) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  err_path_ = dir + "/server.stderr.log";
  std::vector<std::string> storage;
  auto argv = Argv(GW_GATEWAY_BIN, {"serve", "--dir", dir, "--listen", "127.0.0.1:0"}, storage);
  pid_ = fork();
  if (pid_ == 0) {
    int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fds[1], 1), dup2(err, 2);
    close(fds[0]);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  // The server prints "listening on http://127.0.0.1:PORT" once it accepts connections.
  std::string line;
  char c;
  while (read(fds[0], &c, 1) == 1 && c != '\n') line += c;
  close(fds[0]);
  auto colon = line.rfind(':');
  if (line.find("listening on") == std::string::npos || colon == std::string::npos) {
    Stop();
    throw std::runtime_error("server did not start: " + line + " / " + ReadFile(err_path_));
  }
  port_ = static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
}

void ServerProcess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

int ServerProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

ServerProcess::~ServerProcess() { Stop(); }

std::map<std::string, int64_t> CountsByKey(const nlohmann::json& answer,
                                           const std::vector<std::string>& dims) {
  std::map<std::string, int64_t> out;
  for (const auto& cell : answer.at("cells")) {
    std::string key;
    for (const auto& d : dims) key += (key.empty() ? "" : ",") + cell.at(d).get<std::string>();
    if (!cell.at("value").is_null()) out[key] += cell.at("value").get<int64_t>();
  }
  return out;
}

std::map<std::string, int64_t> TruthCounts(const nlohmann::json& truth, const std::string& table) {
  std::map<std::string, int64_t> out;
  for (const auto& [k, v] : truth.at("counts").at(table).items()) out[k] = v.get<int64_t>();
  return out;
}

std::string FirstLine(const ProcessResult& r) { return r.out.substr(0, r.out.find('\n')); }

}  // namespace gw::test
