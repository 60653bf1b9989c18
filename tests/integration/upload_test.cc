// Signed uploads (PUT /v1/snapshots/{country}/{ref_date}) against the real
// `gateway` binary on a real deployment.
//
// The requests are signed by an INDEPENDENT implementation of RFC 9421 and
// RFC 9530 (tests/support/signer.h), on libsodium alone (crypto_sign_detached,
// crypto_hash_sha256) with its own base64: nothing from
// gateway/http/message_signatures.h, so a shared misreading of the RFCs would
// not go unnoticed.
#include <sodium.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "support/http_client.h"
#include "support/signer.h"
#include "support/test_deployment.h"

namespace gw {
namespace {

using testing::ClientResponse;
using testing::HttpClient;

// ---- The independent signer (tests/support/signer.h) ---------------------------

using test::B64Decode;
using test::ContentDigest;
using test::Keypair;
using test::LoadKeyFile;
using test::NewNonce;
using test::Now;
using test::SignRequest;
using test::SignSpec;
using test::Signed;

// ---- The scenario -------------------------------------------------------------

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

struct Upload {
  std::string country = "KAZ";
  std::string query = "profile=kaz-1&partial=true";
  std::string body;
  std::string content_type = "text/csv";
  std::optional<std::string> digest_of;  // sign the digest of this instead of the body
  std::string keyid;
  const Keypair* key = nullptr;
  std::string nonce = NewNonce();
  int64_t created = Now();
  bool cover_content_type = true;
  bool sign = true;
};

ClientResponse Put(uint16_t port, const Upload& u) {
  const std::string target = "/v1/snapshots/" + u.country + "/2015-06-30?" + u.query;
  SignSpec spec;
  spec.target_uri = "http://127.0.0.1:" + std::to_string(port) + target;
  spec.content_type = u.content_type;
  spec.content_digest = ContentDigest(u.digest_of ? *u.digest_of : u.body);
  spec.keyid = u.keyid;
  spec.nonce = u.nonce;
  spec.created = u.created;
  spec.cover_content_type = u.cover_content_type;
  std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", u.content_type},
                                                              {"Content-Digest", spec.content_digest}};
  if (u.sign) {
    Signed s = SignRequest(spec, *u.key);
    headers.emplace_back("Signature-Input", s.signature_input);
    headers.emplace_back("Signature", s.signature);
  }
  HttpClient client(port, std::chrono::milliseconds(15000));
  REQUIRE(client.Connect().ok());
  auto r = client.Send("PUT", target, u.body, headers);
  REQUIRE(r.ok());
  return *r;
}

std::string ErrorCode(const ClientResponse& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.contains("error")) return "<no error JSON: " + r.body + ">";
  return j["error"].value("code", "");
}

nlohmann::json Snapshots(uint16_t port, const std::string& token) {
  HttpClient client(port, std::chrono::milliseconds(5000));
  REQUIRE(client.Connect().ok());
  auto r = client.Send("GET", "/v1/snapshots?country=KAZ", {}, {{"Authorization", "Bearer " + token}});
  REQUIRE(r.ok());
  REQUIRE(r->status == 200);
  return nlohmann::json::parse(r->body)["snapshots"];
}

TEST_CASE("signed uploads against the real server, with an independent signer", "[integration][upload]") {
  REQUIRE(sodium_init() >= 0);
  test::TempDir tmp;
  const std::string dir = tmp.path() + "/gw";
  REQUIRE(test::RunGateway({"init", dir}).exit_code == 0);
  auto kaz_gen = test::RunGateway({"keygen", "--out", tmp.path() + "/kaz"});
  REQUIRE(kaz_gen.exit_code == 0);
  const std::string kaz_keyid = FirstLine(kaz_gen.out);
  auto kgz_gen = test::RunGateway({"keygen", "--out", tmp.path() + "/kgz"});
  REQUIRE(kgz_gen.exit_code == 0);
  const std::string kgz_keyid = FirstLine(kgz_gen.out);
  auto kaz_add = test::RunGateway({"country", "add", "KAZ", "--dir", dir, "--pubkey", tmp.path() + "/kaz.pub"});
  REQUIRE(kaz_add.exit_code == 0);
  CHECK(FirstLine(kaz_add.out) == kaz_keyid);
  REQUIRE(test::RunGateway({"country", "add", "KGZ", "--dir", dir, "--pubkey", tmp.path() + "/kgz.pub"}).exit_code ==
          0);
  auto op = test::RunGateway({"consumer", "add", "op", "--role", "operator", "--dir", dir});
  REQUIRE(op.exit_code == 0);
  const std::string token = FirstLine(op.out);

  const Keypair kaz = LoadKeyFile(tmp.path() + "/kaz.key");
  const Keypair kgz = LoadKeyFile(tmp.path() + "/kgz.key");
  // Our own reading of the .pub file agrees with the seed.
  {
    std::ifstream in(tmp.path() + "/kaz.pub");
    std::string pub;
    std::getline(in, pub);
    CHECK(B64Decode(pub) == kaz.pk);
  }
  const std::string csv = test::ReadFile(test::FixturePath("kaz-1.csv"));
  const auto truth = test::Truth("kaz-1.truth.json");

  auto server = std::make_unique<test::ServerProcess>(dir);
  uint16_t port = server->port();

  auto base = [&] {
    Upload u;
    u.body = csv;
    u.keyid = kaz_keyid;
    u.key = &kaz;
    return u;
  };
  auto expect_error = [&](const ClientResponse& r, int status, const std::string& code) {
    INFO(r.body);
    CHECK(r.status == status);
    CHECK(ErrorCode(r) == code);
  };

  // Refusals first: after each one, nothing is stored.
  {
    Upload u = base();
    u.sign = false;
    expect_error(Put(port, u), 401, "unauthenticated");
  }
  {
    Upload u = base();
    u.keyid = "00112233deadbeef";  // a key the gateway never heard of
    expect_error(Put(port, u), 401, "unauthenticated");
  }
  {
    Upload u = base();
    u.keyid = kgz_keyid;
    u.key = &kgz;
    expect_error(Put(port, u), 403, "permission_denied");
  }
  {
    Upload u = base();
    u.created = Now() - 400;
    expect_error(Put(port, u), 401, "unauthenticated");
  }
  {
    Upload u = base();
    u.digest_of = csv + "tampered";  // the signed digest is of other content
    expect_error(Put(port, u), 400, "invalid_argument");
  }
  {
    Upload u = base();
    u.cover_content_type = false;
    expect_error(Put(port, u), 401, "unauthenticated");
  }
  {
    Upload u = base();
    u.content_type = "application/json";
    expect_error(Put(port, u), 400, "invalid_argument");
  }
  {
    Upload u = base();
    u.key = &kgz;  // KAZ's keyid, signed with another key
    expect_error(Put(port, u), 401, "unauthenticated");
  }
  CHECK(Snapshots(port, token).empty());

  // Accepted: 201, then the same content again is 200 with the same version.
  int64_t version = 0;
  {
    ClientResponse r = Put(port, base());
    INFO(r.body);
    REQUIRE(r.status == 201);
    auto receipt = nlohmann::json::parse(r.body);
    CHECK(receipt["status"] == "committed");
    CHECK(receipt["in_stock"] == truth["in_stock"]);
    version = receipt["version"].get<int64_t>();
    auto list = Snapshots(port, token);
    REQUIRE(list.size() == 1);
    CHECK(list[0]["version"] == version);
  }
  Upload replayed = base();
  {
    ClientResponse r = Put(port, replayed);
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(nlohmann::json::parse(r.body)["version"] == version);
  }
  {
    Upload u = base();
    u.query = "profile=kaz-1";  // strict: the expired rows reject the file
    ClientResponse r = Put(port, u);
    INFO(r.body);
    CHECK(r.status == 422);
    auto receipt = nlohmann::json::parse(r.body);
    CHECK(receipt["status"] == "rejected");
    CHECK(receipt["rejected"].size() == 10);
  }
  // Replay: the same signed request (same nonce) again.
  expect_error(Put(port, replayed), 401, "unauthenticated");
  CHECK(Snapshots(port, token).size() == 1);

  // Nonces persist across a restart.
  server.reset();
  server = std::make_unique<test::ServerProcess>(dir);
  port = server->port();
  {
    Upload u = replayed;  // same nonce, signed for the new port
    expect_error(Put(port, u), 401, "unauthenticated");
  }

  // The push client, end to end.
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  {
    auto r = test::RunGateway({"push", "--url", url, "--key", tmp.path() + "/kaz.key", "--country", "KAZ",
                               "--ref-date", "2015-06-30", "--profile", "kaz-1", "--partial",
                               test::FixturePath("kaz-1.csv")});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    auto receipt = nlohmann::json::parse(r.out);
    CHECK(receipt["status"] == "committed");
    CHECK(receipt["in_stock"] == truth["in_stock"]);
    CHECK(r.err.find("uploading:") != std::string::npos);
  }
  {
    auto r = test::RunGateway({"push", "--url", url, "--key", tmp.path() + "/kaz.key", "--country", "KAZ",
                               "--ref-date", "2015-06-30", "--profile", "kaz-1", "--partial", "--raw",
                               test::FixturePath("kaz-1.csv")});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    auto receipt = nlohmann::json::parse(r.out);
    CHECK(receipt["status"] == "committed");
    CHECK(receipt["in_stock"] == truth["in_stock"]);
  }

  // Neither the server's log nor the database holds a national ID or a name of
  // the uploaded register, raw uploads included.
  server.reset();
  const std::string log = test::ReadFile(dir + "/server.stderr.log");
  CHECK(log.find("\"event\":\"request\"") != std::string::npos);
  std::string stored = test::ReadFile(dir + "/data/gateway.db");
  if (std::filesystem::exists(dir + "/data/gateway.db-wal")) stored += test::ReadFile(dir + "/data/gateway.db-wal");
  const std::string register_text = test::ReadFile(test::FixturePath("kaz-1.csv"));
  std::regex iin(R"((^|[^0-9])([0-9]{12})(?![0-9]))");
  size_t ids = 0;
  for (auto it = std::sregex_iterator(register_text.begin(), register_text.end(), iin);
       it != std::sregex_iterator(); ++it) {
    ++ids;
    CHECK(log.find((*it)[2].str()) == std::string::npos);
    CHECK(stored.find((*it)[2].str()) == std::string::npos);
  }
  CHECK(ids >= 100);
  for (const char* name : {"Каримов", "Юсупова", "Шарипов", "Зарина", "Джамшед"}) {
    CHECK(log.find(name) == std::string::npos);
    CHECK(stored.find(name) == std::string::npos);
  }
}

}  // namespace
}  // namespace gw
