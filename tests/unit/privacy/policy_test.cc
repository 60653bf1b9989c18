#include <catch2/catch.hpp>

#include "gateway/privacy/policy.h"
#include "gateway/privacy/toml_decimal.h"
#include "support/test_deployment.h"

namespace gw {

TEST_CASE("grants parse with every key", "[policy]") {
  auto grants = ParsePolicyText(R"(
[[grant]]
country = "KAZ"
consumer = "unhcr"
pop_types = ["REF", "ASY"]
dimensions = ["coa", "coo", "sex"]
mechanism = "dp"
epsilon = 0.1
budget = "2.5"
threshold = 5
rounding = 0
expires = 2030-01-31

[[grant]]
country = "KAZ"
consumer = "iom"
pop_types = ["MIG"]
dimensions = ["region"]
mechanism = "sdc"
threshold = 10
rounding = 5
)", "kaz.toml");
  REQUIRE(grants.ok());
  REQUIRE(grants->size() == 2);
  const Grant& g = (*grants)[0];
  CHECK(g.mechanism == Mechanism::kDp);
  CHECK(g.epsilon_micro == 100000);
  CHECK(g.budget_micro == 2500000);
  CHECK(g.threshold == 5);
  CHECK(g.expires == Date{2030, 1, 31});
  CHECK(g.AllowsDim(Dim::kCoo));
  CHECK_FALSE(g.AllowsDim(Dim::kAge));
  CHECK(g.AllowsDim(Dim::kCoa));
  CHECK((*grants)[1].rounding == 5);
}

TEST_CASE("policy errors name the file, the grant and the key", "[policy]") {
  auto err = [](const std::string& body) {
    auto r = ParsePolicyText("[[grant]]\n" + body, "kgz.toml");
    REQUIRE_FALSE(r.ok());
    return r.status().message();
  };
  const std::string base =
      "country = \"KGZ\"\nconsumer = \"iom\"\npop_types = [\"REF\"]\ndimensions = [\"coo\"]\n";
  CHECK(err(base + "mechanism = \"magic\"\n") ==
        "kgz.toml: grant #1, key \"mechanism\": must be \"dp\", \"sdc\" or \"none\"");
  CHECK(err(base + "mechanism = \"sdc\"\ncolour = 1\n").find("key \"colour\": unknown key") != std::string::npos);
  CHECK(err(base + "mechanism = \"dp\"\nbudget = 1\n").find("key \"epsilon\": required") != std::string::npos);
  CHECK(err(base + "mechanism = \"sdc\"\nthreshold = -3\n").find("key \"threshold\"") != std::string::npos);
  CHECK(err(base + "mechanism = \"sdc\"\nexpires = \"soon\"\n").find("key \"expires\"") != std::string::npos);
  CHECK(err("country = \"KGZ\"\n").find("missing") != std::string::npos);
  CHECK(err("country = \"XXX\"\nconsumer = \"iom\"\npop_types = [\"REF\"]\ndimensions = [\"coo\"]\nmechanism = \"sdc\"\n")
            .find("key \"country\"") != std::string::npos);
  CHECK(err(base + "mechanism = \"sdc\"\ndimensions = [\"colour\"]\n").find("dimension") != std::string::npos);
  auto syntax = ParsePolicyText("[[grant]\n", "bad.toml");
  REQUIRE_FALSE(syntax.ok());
  CHECK(syntax.status().message().rfind("bad.toml:1:", 0) == 0);
}

TEST_CASE("exact decimal parsing for epsilon and budget", "[policy]") {
  CHECK(ParseMicro("0.1") == 100000);
  CHECK(ParseMicro("1") == 1000000);
  CHECK(ParseMicro("0.000001") == 1);
  CHECK(ParseMicro("2.50") == 2500000);
  CHECK_FALSE(ParseMicro("0.0000001").has_value());
  CHECK_FALSE(ParseMicro("abc").has_value());
  CHECK_FALSE(ParseMicro("").has_value());
  CHECK_FALSE(ParseMicro("1e5").has_value());
}

TEST_CASE("decimal settings from TOML floats, integers and strings", "[policy]") {
  auto t = toml::parse("f = 0.1\ni = 2\ns = \"0.5\"\ntiny = 0.0000001\nb = true\nbad = \"x\"\n");
  CHECK(MicroFromToml(*t.get("f")) == 100000);  // not 100000.0000000000055...
  CHECK(MicroFromToml(*t.get("i")) == 2000000);
  CHECK(MicroFromToml(*t.get("s")) == 500000);
  CHECK_FALSE(MicroFromToml(*t.get("tiny")).has_value());
  CHECK_FALSE(MicroFromToml(*t.get("b")).has_value());
  CHECK_FALSE(MicroFromToml(*t.get("bad")).has_value());
}

TEST_CASE("expired grants stop applying; a failed reload keeps the previous policy", "[policy]") {
  test::TempDir tmp;
  PolicyStore store(tmp.path());
  test::WriteFile(tmp.path() + "/a.toml", R"([[grant]]
country = "KAZ"
consumer = "unhcr"
pop_types = ["REF"]
dimensions = ["coo"]
mechanism = "sdc"
threshold = 5
expires = 2020-12-31
)");
  REQUIRE(store.Reload().ok());
  auto p = store.current();
  CHECK(p->Find("KAZ", "unhcr", Date{2020, 12, 31}) != nullptr);
  CHECK(p->Find("KAZ", "unhcr", Date{2021, 1, 1}) == nullptr);
  CHECK(p->Find("KAZ", "iom", Date{2020, 1, 1}) == nullptr);

  test::WriteFile(tmp.path() + "/b.toml", "[[grant]]\ncountry = 1\n");
  Status s = store.Reload();
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("b.toml") != std::string::npos);
  CHECK(store.current() == p);  // the previous policy stays in force
}

TEST_CASE("two grants for one country and consumer are refused", "[policy]") {
  test::TempDir tmp;
  const std::string grant =
      "[[grant]]\ncountry = \"KAZ\"\nconsumer = \"unhcr\"\npop_types = [\"REF\"]\n"
      "dimensions = [\"coo\"]\nmechanism = \"none\"\n";
  test::WriteFile(tmp.path() + "/a.toml", grant);
  test::WriteFile(tmp.path() + "/b.toml", grant);
  auto p = LoadPolicies(tmp.path());
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().message().find("duplicates") != std::string::npos);
}

}  // namespace gw
