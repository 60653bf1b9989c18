// The web console's files served from the binary, and the operator routes the
// console reads: GET /v1/grants and GET /v1/audit/verify.
#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>
#include <set>

#include "gateway/http/api.h"
#include "gateway/http/console.h"
#include "gateway/http/router.h"
#include "gateway/storage/sqlite.h"
#include "support/test_deployment.h"

namespace gw {
namespace {

struct Fixture {
  test::TestDeployment t;
  http::Router router;
  http::Api api{t.deployment()};
  Fixture() { api.Register(router); }

  http::Response Get(const std::string& target, const std::string& token = "") {
    http::Request req;
    req.method = "GET";
    req.target = target;
    REQUIRE(http::ParseTarget(target, 64, &req.path, &req.query).ok());
    if (!token.empty()) req.headers["authorization"] = "Bearer " + token;
    return router.Dispatch(req);
  }
};

std::string HeaderOf(const http::Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

const std::string kConsoleDir = std::string(GW_SOURCE_DIR) + "/console";

}  // namespace

TEST_CASE("the console's files are served from the binary, byte for byte", "[console]") {
  Fixture f;
  auto index = f.Get("/console/");
  REQUIRE(index.status == 200);
  CHECK(index.content_type == "text/html; charset=utf-8");
  CHECK(index.body == test::ReadFile(kConsoleDir + "/index.html"));
  CHECK(HeaderOf(index, "Content-Security-Policy").rfind("default-src 'self'", 0) == 0);
  CHECK(HeaderOf(index, "X-Frame-Options") == "DENY");

  // Every file of console/ is served (a file added there but not to the CMake list
  // and console.cc fails here), and nothing else.
  std::set<std::string> on_disk;
  for (const auto& entry : std::filesystem::directory_iterator(kConsoleDir)) {
    const std::string name = entry.path().filename().string();
    on_disk.insert(name);
    INFO(name);
    auto r = f.Get("/console/" + name);
    CHECK(r.status == 200);
    CHECK(r.body == test::ReadFile(entry.path().string()));
    CHECK(r.content_type != "application/octet-stream");
    CHECK(!HeaderOf(r, "Content-Security-Policy").empty());
  }
  std::set<std::string> served;
  for (const auto& file : http::ConsoleFiles()) served.insert(std::string(file.name));
  CHECK(served == on_disk);
  CHECK(f.Get("/console/app.js").content_type == "text/javascript; charset=utf-8");
  CHECK(f.Get("/console/style.css").content_type == "text/css; charset=utf-8");
  CHECK(f.Get("/console/favicon.svg").content_type == "image/svg+xml");

  for (const char* missing : {"/console/nothing.js", "/console/%2e%2e", "/console/index.html.bak", "/console",
                              "/console/app.js/x"}) {
    INFO(missing);
    CHECK(f.Get(missing).status == 404);
  }

  // CSP default-src 'self' forbids inline scripts and styles: the page must not need them.
  const std::string html = index.body;
  CHECK(html.find("style=") == std::string::npos);
  CHECK(html.find("<style") == std::string::npos);
  std::regex script_tag("<script[^>]*>");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), script_tag); it != std::sregex_iterator(); ++it) {
    INFO(it->str());
    CHECK(it->str().find("src=") != std::string::npos);
  }
  CHECK(html.find("http://") == std::string::npos);   // nothing from elsewhere
  CHECK(html.find("https://") == std::string::npos);
}

TEST_CASE("GET /v1/grants lists the grants in force, for operators only", "[console][grants]") {
  Fixture f;
  f.t.WritePolicy("grants.toml", R"([[grant]]
country = "KAZ"
consumer = "unhcr"
pop_types = ["REF", "ASY"]
dimensions = ["coo", "sex"]
mechanism = "dp"
epsilon = 0.5
budget = 2.25
threshold = 5
expires = 2999-12-31

[[grant]]
country = "KGZ"
consumer = "iom"
pop_types = ["MIG"]
dimensions = ["coo", "sex", "age"]
mechanism = "sdc"
threshold = 5
rounding = 5

[[grant]]
country = "TJK"
consumer = "unhcr"
pop_types = ["REF"]
dimensions = ["coo"]
mechanism = "sdc"
threshold = 3
expires = 2001-01-01
)");
  const std::string consumer = f.t.AddConsumer("unhcr");
  const std::string op = f.t.AddConsumer("secretariat", "operator");
  CHECK(f.Get("/v1/grants").status == 401);
  CHECK(f.Get("/v1/grants", consumer).status == 403);
  CHECK(f.Get("/v1/grants?colour=red", op).status == 400);

  auto r = f.Get("/v1/grants", op);
  REQUIRE(r.status == 200);
  auto j = nlohmann::json::parse(r.body);
  REQUIRE(j["grants"].size() == 2);  // the expired TJK grant is not in force
  const auto& dp = j["grants"][0];
  CHECK(dp["country"] == "KAZ");
  CHECK(dp["consumer"] == "unhcr");
  CHECK(dp["pop_types"] == nlohmann::json::array({"REF", "ASY"}));
  CHECK(dp["mechanism"] == "dp");
  CHECK(dp["epsilon"].get<double>() == 0.5);
  CHECK(dp["budget"].get<double>() == 2.25);
  CHECK(dp["new_tables_per_ref_date"] == 4);
  CHECK(dp["threshold"] == 5);
  CHECK(dp["rounding"].is_null());
  CHECK(dp["expires"] == "2999-12-31");
  CHECK(r.body.find("\"epsilon\":0.5,") != std::string::npos);  // decimal, not 0.5000001
  const auto& sdc = j["grants"][1];
  CHECK(sdc["mechanism"] == "sdc");
  CHECK(sdc["epsilon"].is_null());
  CHECK(sdc["budget"].is_null());
  CHECK(sdc["rounding"] == 5);
  CHECK(sdc["expires"].is_null());
  std::set<std::string> dims;
  for (const auto& d : sdc["dimensions"]) dims.insert(d.get<std::string>());
  CHECK(dims == std::set<std::string>{"coo", "sex", "age"});

  auto kgz = nlohmann::json::parse(f.Get("/v1/grants?country=KGZ", op).body);
  REQUIRE(kgz["grants"].size() == 1);
  CHECK(kgz["grants"][0]["consumer"] == "iom");
  CHECK(nlohmann::json::parse(f.Get("/v1/grants?consumer=nobody", op).body)["grants"].empty());
}

TEST_CASE("GET /v1/audit/verify checks the hash chain, for operators only", "[console][audit]") {
  Fixture f;
  const std::string consumer = f.t.AddConsumer("unhcr");
  const std::string op = f.t.AddConsumer("secretariat", "operator");
  for (int i = 0; i < 4; ++i) {
    REQUIRE(f.t.deployment().store().AppendAudit("test.event", "tester", "{\"i\":" + std::to_string(i) + "}").ok());
  }
  CHECK(f.Get("/v1/audit/verify").status == 401);
  CHECK(f.Get("/v1/audit/verify", consumer).status == 403);
  CHECK(f.Get("/v1/audit/verify?x=1", op).status == 400);

  auto ok = f.Get("/v1/audit/verify", op);
  REQUIRE(ok.status == 200);
  auto j = nlohmann::json::parse(ok.body);
  CHECK(j["status"] == "verified");
  const int64_t entries = j["entries"].get<int64_t>();
  CHECK(entries >= 4);
  CHECK(j["head"]["seq"] == entries);
  auto last = nlohmann::json::parse(f.Get("/v1/audit?after=" + std::to_string(entries - 1), op).body);
  CHECK(j["head"]["hash"] == last["entries"][0]["hash"]);

  {
    auto conn = sql::Connection::Open(f.t.deployment().dir() + "/data/gateway.db", sql::Connection::Mode::kReadWrite);
    REQUIRE(conn.ok());
    REQUIRE((*conn)->Exec("UPDATE audit SET actor = 'someone-else' WHERE seq = 2").ok());
  }
  auto broken = nlohmann::json::parse(f.Get("/v1/audit/verify", op).body);
  CHECK(broken["status"] == "broken");
  CHECK(broken["first_broken_seq"] == 2);
  CHECK(broken["entries"] == 1);
  CHECK(broken["problem"].get<std::string>().find("altered") != std::string::npos);
}

}  // namespace gw
