// The `gateway` command line as users and scripts run it: output, exit codes.
#include <catch2/catch.hpp>
#include <set>

#include "support/test_deployment.h"

namespace gw {

TEST_CASE("gateway ingest: strict rejects listing every invalid row, --partial commits", "[cli]") {
  test::TempDir tmp;
  const std::string dir = tmp.path() + "/gw";
  REQUIRE(test::RunGateway({"init", dir}).exit_code == 0);
  auto truth = test::Truth("kaz-1.truth.json");
  std::vector<std::string> base = {"ingest", "--dir", dir, "--country", "KAZ", "--ref-date", "2015-06-30",
                                   "--profile", "kaz-1"};

  auto strict_args = base;
  strict_args.push_back(test::FixturePath("kaz-1.csv"));
  auto strict = test::RunGateway(strict_args);
  CHECK(strict.exit_code == 2);
  auto receipt = nlohmann::json::parse(strict.out);
  CHECK(receipt["status"] == "rejected");
  CHECK(receipt["version"].is_null());
  std::set<int> rows, want;
  for (const auto& e : receipt["rejected"]) {
    rows.insert(e["row"].get<int>());
    CHECK(e.contains("field"));
    CHECK(e.contains("reason"));
  }
  for (const auto& e : truth["invalid"]) want.insert(e["row"].get<int>());
  CHECK(rows == want);
  CHECK(rows.size() == 10);
  CHECK(strict.err.find("rejected") != std::string::npos);

  auto partial_args = base;
  partial_args.push_back("--partial");
  partial_args.push_back(test::FixturePath("kaz-1.csv"));
  auto partial = test::RunGateway(partial_args);
  REQUIRE(partial.exit_code == 0);
  auto committed = nlohmann::json::parse(partial.out);
  CHECK(committed["status"] == "committed");
  CHECK(committed["version"] == 1);
  CHECK(committed["in_stock"] == truth["in_stock"]);
  CHECK(committed["expired"] == truth["expired"]);
  CHECK(committed["accepted"] == truth["valid"]);
  CHECK(committed["rows"] == truth["rows"]);
  for (const char* key : {"status", "country", "ref_date", "version", "rows", "accepted", "expired",
                          "in_stock", "rejected", "digest"}) {
    CHECK(committed.contains(key));
  }

  auto again = test::RunGateway(partial_args);
  CHECK(again.exit_code == 0);
  CHECK(nlohmann::json::parse(again.out)["version"] == 1);

  SECTION("standard input") {
    auto piped_args = base;
    piped_args.push_back("--charset=rk1048");
    piped_args.push_back("-");
    auto piped = test::RunGateway(piped_args, test::ReadFile(test::FixturePath("kaz-1.rk1048.csv")));
    CHECK(piped.exit_code == 0);
    CHECK(nlohmann::json::parse(piped.out)["version"] == 2);
  }
}

TEST_CASE("gateway commands give clear errors and help", "[cli]") {
  test::TempDir tmp;
  const std::string dir = tmp.path() + "/gw";
  REQUIRE(test::RunGateway({"init", dir}).exit_code == 0);

  auto help = test::RunGateway({"ingest", "--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("kaz-1") != std::string::npos);
  for (const char* cmd : {"init", "serve", "policy", "consumer"}) {
    std::vector<std::string> args = {cmd};
    if (std::string(cmd) == "policy") args.push_back("check");
    if (std::string(cmd) == "consumer") args.push_back("add");
    args.push_back("--help");
    auto r = test::RunGateway(args);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("usage: gateway") == 0);
  }
  CHECK(test::RunGateway({}).exit_code == 1);
  CHECK(test::RunGateway({"frobnicate"}).exit_code == 1);
  auto missing = test::RunGateway({"ingest", "--dir", dir, "--country", "KAZ", "--profile", "kaz-1", "x.csv"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("--ref-date") != std::string::npos);
  auto nofile = test::RunGateway({"ingest", "--dir", dir, "--country", "KAZ", "--ref-date", "2015-06-30",
                                  "--profile", "kaz-1", tmp.path() + "/none.csv"});
  CHECK(nofile.exit_code == 1);
  CHECK(nofile.err.find("none.csv") != std::string::npos);
  auto badprofile = test::RunGateway({"ingest", "--dir", dir, "--country", "KAZ", "--ref-date", "2015-06-30",
                                      "--profile", "kaz-7", "x.csv"});
  CHECK(badprofile.exit_code == 1);
  CHECK(badprofile.err.find("kaz-1") != std::string::npos);
  auto badcharset = test::RunGateway({"ingest", "--dir", dir, "--country", "KAZ", "--ref-date", "2015-06-30",
                                      "--profile", "kaz-1", "--charset", "koi8-r", "x.csv"});
  CHECK(badcharset.exit_code == 1);
  CHECK(badcharset.err.find("koi8-r") != std::string::npos);
  auto badflag = test::RunGateway({"ingest", "--colour", "x"});
  CHECK(badflag.exit_code == 1);
  CHECK(badflag.err.find("--colour") != std::string::npos);
  auto garbage = tmp.path() + "/garbage.csv";
  test::WriteFile(garbage, std::string("\xff\xfe\x00\x01garbage", 11));
  auto g = test::RunGateway({"ingest", "--dir", dir, "--country", "KAZ", "--ref-date", "2015-06-30",
                             "--profile", "kaz-1", garbage});
  CHECK(g.exit_code == 2);
  CHECK(nlohmann::json::parse(g.out)["status"] == "rejected");

  auto role = test::RunGateway({"consumer", "add", "x", "--dir", dir, "--role", "king"});
  CHECK(role.exit_code == 1);
  auto name = test::RunGateway({"consumer", "add", "Bad Name", "--dir", dir});
  CHECK(name.exit_code == 1);
  auto op = test::RunGateway({"consumer", "add", "secretariat", "--dir", dir, "--role", "operator"});
  CHECK(op.exit_code == 0);
  CHECK(op.out.rfind("gwt_", 0) == 0);
  CHECK(test::RunGateway({"consumer", "add", "secretariat", "--dir", dir}).exit_code == 1);
  CHECK(test::RunGateway({"init", dir}).exit_code == 1);
}

TEST_CASE("gateway policy check prints the grants and warns about none", "[cli]") {
  test::TempDir tmp;
  const std::string dir = tmp.path() + "/gw";
  REQUIRE(test::RunGateway({"init", dir}).exit_code == 0);
  test::WriteFile(dir + "/policies/kaz.toml", R"([[grant]]
country = "KAZ"
consumer = "unhcr"
pop_types = ["REF"]
dimensions = ["coo", "sex"]
mechanism = "none"

[[grant]]
country = "KAZ"
consumer = "iom"
pop_types = ["MIG"]
dimensions = ["region"]
mechanism = "sdc"
threshold = 5
)");
  auto r = test::RunGateway({"policy", "check", "--dir", dir});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("KAZ -> unhcr") != std::string::npos);
  CHECK(r.out.find("KAZ -> iom") != std::string::npos);
  CHECK(r.err.find("warning") != std::string::npos);
  CHECK(r.err.find("EXACT") != std::string::npos);
  test::WriteFile(dir + "/policies/bad.toml", "[[grant]]\ncountry = \"KAZ\"\nmechanism = 1\n");
  auto bad = test::RunGateway({"policy", "check", "--dir", dir});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("bad.toml") != std::string::npos);
}

}  // namespace gw
