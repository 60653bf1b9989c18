// Test helpers: temporary deployments, fixtures, truth files and child
// processes (the real `gateway` binary).
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gateway/deployment.h"

namespace gw::test {

std::string FixturePath(const std::string& name);
std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& text);
nlohmann::json Truth(const std::string& name);  // e.g. "kaz-1.truth.json"

// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A deployment created with `Deployment::Init` in a TempDir.
class TestDeployment {
 public:
  TestDeployment();
  const std::string& dir() const { return tmp_.path(); }
  Deployment& deployment() { return *deployment_; }
  void WritePolicy(const std::string& file, const std::string& toml);
  // Registers a consumer and returns its token.
  std::string AddConsumer(const std::string& name, const std::string& role = "consumer");

 private:
  TempDir tmp_;
  std::unique_ptr<Deployment> deployment_;
};

struct ProcessResult {
  int exit_code = -1;
  std::string out, err;
};
// The first line of a command's stdout (e.g. the token `consumer add` prints).
std::string FirstLine(const ProcessResult& r);

// Runs the gateway binary with `args` and waits for it.
ProcessResult RunGateway(const std::vector<std::string>& args, const std::string& stdin_text = "");

// `gateway serve` in the background on 127.0.0.1 with an OS-chosen port.
class ServerProcess {
 public:
  explicit ServerProcess(const std::string& dir);
  ~ServerProcess();  // SIGTERM, then wait
  uint16_t port() const { return port_; }
  // Sends SIGTERM and returns the exit status.
  int Stop();
  void Signal(int sig);

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string err_path_;
};

// Counts in the truth-file form ("REF,AFG" -> n) from a JSON aggregates answer,
// joining the values of `dims` with commas.
std::map<std::string, int64_t> CountsByKey(const nlohmann::json& answer,
                                           const std::vector<std::string>& dims);
std::map<std::string, int64_t> TruthCounts(const nlohmann::json& truth, const std::string& table);

}  // namespace gw::test
