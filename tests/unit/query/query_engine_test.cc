#include <catch2/catch.hpp>

#include "gateway/ingest/ingest.h"
#include "gateway/query/query_engine.h"
#include "support/test_deployment.h"

namespace gw {
namespace {

constexpr const char* kAllDimsGrant = R"(
[[grant]]
country = "KAZ"
consumer = "unhcr"
pop_types = ["REF", "ASY", "STA", "MIG"]
dimensions = ["coa", "coo", "pop_type", "sex", "age", "region"]
mechanism = "%MECH%"
threshold = 5
)";

std::string GrantToml(const std::string& mechanism) {
  std::string g = kAllDimsGrant;
  g.replace(g.find("%MECH%"), 6, mechanism);
  return g;
}

struct Fixture {
  test::TestDeployment t;
  std::unique_ptr<DisclosureControl> dc = MakeDisclosureControl();
  QueryEngine engine{t.deployment().store(), t.deployment().policies(), *dc};
  nlohmann::json truth = test::Truth("kaz-1.truth.json");

  Fixture() {
    StringSource src(test::ReadFile(test::FixturePath("kaz-1.csv")));
    Ingestor ingestor(t.deployment().store(), t.deployment().keys());
    auto r = ingestor.Ingest(IngestRequest{"KAZ", {2015, 6, 30}, "kaz-1", "", true}, src);
    REQUIRE(r.ok());
    REQUIRE(r->committed());
  }

  Result<AggregateResult> Ask(const std::vector<std::pair<std::string, std::string>>& params,
                              const std::string& who = "unhcr") {
    auto q = ParseAggregateQuery(params);
    REQUIRE(q.ok());
    return engine.Aggregate(*q, Principal{who, "consumer"});
  }

  static nlohmann::json Json(const AggregateResult& r) { return nlohmann::json::parse(r.ToJson()); }
};

}  // namespace

TEST_CASE("a none grant returns exactly the truth's counts", "[query]") {
  Fixture f;
  f.t.WritePolicy("kaz.toml", GrantToml("none"));
  auto r = f.Ask({{"ref_date", "2015-06-30"}, {"by", "pop_type,coo,sex,age,region"}});
  REQUIRE(r.ok());
  auto j = Fixture::Json(*r);
  CHECK(test::CountsByKey(j, {"pop_type", "coo", "sex", "age", "region"}) == test::TruthCounts(f.truth, "full"));
  for (const auto& cell : j["cells"]) CHECK(cell["status"] == "A");
  CHECK(j["countries"]["included"] == nlohmann::json::array({"KAZ"}));
  CHECK(j["sources"][0]["version"] == 1);
  CHECK(j["sources"][0]["mechanism"] == "none");

  auto coarse = f.Ask({{"ref_date", "2015-06-30"}, {"by", "pop_type,sex,age"}});
  CHECK(test::CountsByKey(Fixture::Json(*coarse), {"pop_type", "sex", "age"}) ==
        test::TruthCounts(f.truth, "pop_type,sex,age"));
  auto filtered = f.Ask({{"ref_date", "2015-06-30"}, {"pop_type", "REF"}, {"coo", "AFG"}});
  auto fj = Fixture::Json(*filtered);
  REQUIRE(fj["cells"].size() == 1);
  CHECK(fj["cells"][0]["value"] == f.truth["counts"]["pop_type,coo"]["REF,AFG"]);
  auto total = f.Ask({{"ref_date", "2015-06-30"}});
  CHECK(Fixture::Json(*total)["cells"][0]["value"] == f.truth["in_stock"]);
}

TEST_CASE("sdc suppresses cells below the threshold and publishes the rest exactly", "[query]") {
  Fixture f;
  f.t.WritePolicy("kaz.toml", GrantToml("sdc"));
  auto r = f.Ask({{"ref_date", "2015-06-30"}, {"by", "pop_type,coo"}});
  REQUIRE(r.ok());
  auto j = Fixture::Json(*r);
  auto truth = test::TruthCounts(f.truth, "pop_type,coo");
  size_t suppressed = 0;
  for (const auto& cell : j["cells"]) {
    std::string key = cell["pop_type"].get<std::string>() + "," + cell["coo"].get<std::string>();
    if (truth[key] < 5) CHECK(cell["status"] == "Q");
    if (cell["status"] == "Q") {
      ++suppressed;
      CHECK(cell["value"].is_null());
    } else {
      // Published cells are exact; complementary suppression may hide larger ones too.
      CHECK(cell["value"] == truth[key]);
      CHECK(cell["status"] == "A");
    }
  }
  CHECK(suppressed > 0);
  CHECK(j["cells"].size() == truth.size());
}

TEST_CASE("grants decide what a consumer may see", "[query]") {
  Fixture f;
  f.t.WritePolicy("kaz.toml", R"(
[[grant]]
country = "KAZ"
consumer = "iom"
pop_types = ["MIG"]
dimensions = ["pop_type", "sex"]
mechanism = "none"
)");
  SECTION("no grant at all: 403") {
    auto r = f.Ask({{"ref_date", "2015-06-30"}, {"by", "pop_type"}}, "unhcr");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kPermissionDenied);
  }
  SECTION("a dimension outside the grant: 403 naming it") {
    auto r = f.Ask({{"ref_date", "2015-06-30"}, {"by", "pop_type,coo"}}, "iom");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kPermissionDenied);
    CHECK(r.status().message().find("\"coo\"") != std::string::npos);
  }
  SECTION("a population type outside the grant: 403") {
    auto r = f.Ask({{"ref_date", "2015-06-30"}, {"pop_type", "REF"}}, "iom");
    CHECK(r.status().code() == Code::kPermissionDenied);
  }
  SECTION("a total over all population types is refused; a breakdown shows the granted ones") {
    CHECK(f.Ask({{"ref_date", "2015-06-30"}, {"by", "sex"}}, "iom").status().code() == Code::kPermissionDenied);
    auto r = f.Ask({{"ref_date", "2015-06-30"}, {"by", "pop_type"}}, "iom");
    REQUIRE(r.ok());
    auto j = Fixture::Json(*r);
    REQUIRE(j["cells"].size() == 1);
    CHECK(j["cells"][0]["pop_type"] == "MIG");
    CHECK(j["cells"][0]["value"] == f.truth["counts"]["pop_type"]["MIG"]);
  }
  SECTION("no snapshot at the date: 404") {
    auto r = f.Ask({{"ref_date", "2016-06-30"}, {"by", "pop_type"}}, "iom");
    CHECK(r.status().code() == Code::kNotFound);
  }
}

}  // namespace gw
