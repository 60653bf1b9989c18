// Disclosure control through the query engine on a real ingested snapshot:
// dp noise, budgets, sdc with totals and secondary suppression, and attacks
// that must fail.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <set>

#include "gateway/crypto/digest.h"
#include "gateway/ingest/ingest.h"
#include "gateway/privacy/noise.h"
#include "gateway/privacy/sdc.h"
#include "gateway/query/query_engine.h"
#include "support/test_deployment.h"

namespace gw {
namespace {

std::string DpGrant(const std::string& consumer, const std::string& extra = "") {
  return "[[grant]]\ncountry = \"KAZ\"\nconsumer = \"" + consumer +
         "\"\npop_types = [\"REF\", \"ASY\", \"STA\", \"MIG\"]\n"
         "dimensions = [\"coa\", \"coo\", \"pop_type\", \"sex\", \"age\", \"region\"]\n"
         "mechanism = \"dp\"\nepsilon = 0.5\nbudget = 2.0\nthreshold = 5\n" + extra + "\n";
}

struct Fixture {
  test::TestDeployment t;
  std::unique_ptr<DisclosureControl> dc;
  std::unique_ptr<QueryEngine> engine;
  nlohmann::json truth = test::Truth("kaz-1.truth.json");

  explicit Fixture(QueryOptions options = {}) {
    auto settings = t.deployment().disclosure_settings();
    REQUIRE(settings.ok());
    dc = MakeDisclosureControl(*settings);
    engine = std::make_unique<QueryEngine>(t.deployment().store(), t.deployment().policies(), *dc, options);
    Ingest("KAZ", "kaz-1.csv", "kaz-1", {2015, 6, 30});
  }

  void Ingest(const std::string& country, const std::string& file, const std::string& profile, Date date) {
    StringSource src(test::ReadFile(test::FixturePath(file)));
    Ingestor ingestor(t.deployment().store(), t.deployment().keys());
    auto r = ingestor.Ingest(IngestRequest{country, date, profile, "", true}, src);
    REQUIRE(r.ok());
    INFO(r->ToJson());
    REQUIRE(r->committed());
  }

  Result<AggregateResult> Ask(const std::vector<std::pair<std::string, std::string>>& params,
                              const std::string& who = "unhcr") {
    auto q = ParseAggregateQuery(params);
    REQUIRE(q.ok());
    return engine->Aggregate(*q, Principal{who, "consumer"});
  }
  nlohmann::json AskJson(const std::vector<std::pair<std::string, std::string>>& params,
                         const std::string& who = "unhcr") {
    auto r = Ask(params, who);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    return nlohmann::json::parse(r->ToJson());
  }
};

// cells as "v1,v2" -> cell json
std::map<std::string, nlohmann::json> ByKey(const nlohmann::json& answer) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& cell : answer["cells"]) {
    std::string key;
    for (const auto& d : answer["by"]) key += (key.empty() ? "" : ",") + cell[d.get<std::string>()].get<std::string>();
    out[key] = cell;
  }
  return out;
}

}  // namespace

TEST_CASE("dp: noisy values near the truth, identical on repeat, across consumers and spellings", "[dp][query]") {
  Fixture f;
  f.t.WritePolicy("kaz.toml", DpGrant("unhcr") + DpGrant("iom"));
  auto a = f.AskJson({{"ref_date", "2015-06-30"}, {"by", "pop_type,coo"}});
  auto truth = test::TruthCounts(f.truth, "pop_type,coo");
  size_t shown = 0, hidden = 0;
  for (const auto& [key, cell] : ByKey(a)) {
    if (cell["status"] == "E") {
      ++shown;
      int64_t v = cell["value"];
      CHECK(v >= 5);  // nothing under the threshold is ever a number
      int64_t exact = truth.count(key) ? truth[key] : 0;
      CHECK(std::abs(v - exact) <= 25);  // scale 2: beyond 25 has probability e^-12.5
    } else {
      ++hidden;
      CHECK(cell["status"] == "Q");
      CHECK(cell["value"].is_null());
    }
  }
  CHECK(shown > 0);
  CHECK(hidden > 0);
  CHECK(a["sources"][0]["mechanism"] == "dp");
  CHECK(a["budget"][0]["cost"] == 0.5);

  // The same numbers: repeated, reordered, filtered, and for another consumer.
  auto again = f.AskJson({{"ref_date", "2015-06-30"}, {"by", "pop_type,coo"}});
  CHECK(again["cells"] == a["cells"]);
  CHECK(again["budget"][0]["cost"] == 0);
  auto reordered = ByKey(f.AskJson({{"ref_date", "2015-06-30"}, {"by", "coo,pop_type"}}));
  auto as_iom = ByKey(f.AskJson({{"ref_date", "2015-06-30"}, {"by", "pop_type,coo"}}, "iom"));
  auto filtered = ByKey(f.AskJson({{"ref_date", "2015-06-30"}, {"coo", "AFG,UZB,RUS"}, {"by", "pop_type"}}));
  for (const auto& [key, cell] : ByKey(a)) {
    auto comma = key.find(',');
    std::string swapped = key.substr(comma + 1) + "," + key.substr(0, comma);
    REQUIRE(reordered.count(swapped));
    CHECK(reordered[swapped]["value"] == cell["value"]);
    CHECK(as_iom[key]["value"] == cell["value"]);
    std::string coo = key.substr(comma + 1);
    if (coo == "AFG" || coo == "UZB" || coo == "RUS") {
      // filtered answers list pop_type first (by), then coo (filter)
      CHECK(filtered[key]["value"] == cell["value"]);
    }
  }
  CHECK(f.t.deployment().store().ListBudgetUse("unhcr")->at(0).spent_micro == 500000);
}

TEST_CASE("dp budget: epsilon 0.5 and budget 2.0 refuse the fifth new table; repeats still answer", "[dp][query]") {
  Fixture f;
  f.t.WritePolicy("kaz.toml", DpGrant("unhcr"));
  const char* tables[] = {"pop_type", "pop_type,coo", "pop_type,sex", "pop_type,age"};
  for (const char* by : tables) {
    INFO(by);
    REQUIRE(f.Ask({{"ref_date", "2015-06-30"}, {"by", by}}).ok());
  }
  auto fifth = f.Ask({{"ref_date", "2015-06-30"}, {"by", "pop_type,region"}});
  REQUIRE_FALSE(fifth.ok());
  CHECK(fifth.status().code() == Code::kResourceExhausted);
  CHECK(fifth.status().message().find("2 of 2 spent, 0 remains") != std::string::npos);
  for (const char* by : tables) CHECK(f.Ask({{"ref_date", "2015-06-30"}, {"by", by}}).ok());
  // Named explicitly, the same refusal.
  auto named = f.Ask({{"ref_date", "2015-06-30"}, {"coa", "KAZ"}, {"by", "pop_type,region"}});
  CHECK(named.status().code() == Code::kResourceExhausted);
}

TEST_CASE("dp totals are their own tables, each paid once", "[dp][query]") {
  Fixture f;
  f.t.WritePolicy("kaz.toml", DpGrant("unhcr"));
  auto j = f.AskJson({{"ref_date", "2015-06-30"}, {"by", "pop_type,sex"}, {"totals", "true"}});
  CHECK(j["budget"][0]["cost"] == 2.0);  // pop_type,sex + pop_type + sex + total
  CHECK(j["totals"] == true);
  // The margin pop_type=_T is the table "sex" itself: the same noisy values.
  auto sex = ByKey(f.AskJson({{"ref_date", "2015-06-30"}, {"by", "sex"}}));
  for (const auto& [key, cell] : ByKey(j)) {
    if (key.rfind("_T,", 0) == 0 && key != "_T,_T") CHECK(sex[key.substr(3)]["value"] == cell["value"]);
  }
}

TEST_CASE("averaging attack: thousands of repeats give one number and cost one table", "[dp][query]") {
  Fixture f;
  f.t.WritePolicy("kaz.toml", DpGrant("unhcr"));
  auto first = f.AskJson({{"ref_date", "2015-06-30"}, {"pop_type", "REF"}, {"coo", "AFG"}});
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    auto r = f.Ask({{"ref_date", "2015-06-30"}, {"coo", "AFG"}, {"pop_type", "REF"}});
    REQUIRE(r.ok());
    seen.insert(nlohmann::json::parse(r->ToJson())["cells"].dump());
  }
  CHECK(seen.size() == 1);
  CHECK(*seen.begin() == first["cells"].dump());
  auto use = f.t.deployment().store().ListBudgetUse("unhcr");
  CHECK(use->at(0).spent_micro == 500000);
}

namespace {

// One dp release of a one-cell table with `count` persons, under the noise key `master`.
std::optional<int64_t> ReleaseOneCell(const std::string& master, int64_t count) {
  Grant g;
  g.country = "KAZ";
  g.pop_types = {"REF"};
  g.dimensions = {Dim::kPopType, Dim::kCoo};
  g.mechanism = Mechanism::kDp;
  g.epsilon_micro = 500000;
  g.budget_micro = 2000000;
  g.threshold = 0;
  SnapshotInfo snap;
  snap.country = "KAZ";
  snap.ref_date = "2015-06-30";
  snap.version = 1;
  DisclosureSettings settings;
  settings.noise_master = master;
  auto dc = MakeDisclosureControl(settings);
  ProtectionRequest req;
  req.grant = &g;
  req.snapshot = &snap;
  req.by = {Dim::kPopType, Dim::kCoo};
  req.filters[DimIndex(Dim::kPopType)] = {"REF"};
  req.filters[DimIndex(Dim::kCoo)] = {"AFG"};
  req.read = [count](const std::vector<Dim>&, const DimFilters&) -> Result<std::vector<CountRow>> {
    if (count == 0) return std::vector<CountRow>{};
    return std::vector<CountRow>{CountRow{{"REF", "AFG"}, count}};
  };
  auto t = dc->Protect(req);
  REQUIRE(t.ok());
  if ((*t)->cells.empty()) return 0;  // not listed: protected value zero or less
  return (*t)->cells[0].value;
}

}  // namespace

TEST_CASE("differencing attack: D against D plus one person cannot be told apart", "[dp][query]") {
  // The attacker knows everything but whether one person is in the data: 7
  // refugees from AFG (D) or 8 (D plus the target). Seeing the released value,
  // the best guess is "8" when the value is at least 8. Under dp the success
  // rate over many secret keys stays at the e^eps / (1 + e^eps) bound (0.62
  // for eps 0.5); without noise it would be 1.
  const int trials = 3000;
  int correct = 0;
  for (int i = 0; i < trials; ++i) {
    std::string master(32, '\0');
    master[0] = static_cast<char>(i);
    master[1] = static_cast<char>(i >> 8);
    bool present = i % 2 == 1;
    auto v = ReleaseOneCell(master, present ? 8 : 7);
    bool guess = v.value_or(0) >= 8;
    correct += guess == present ? 1 : 0;
  }
  double rate = static_cast<double>(correct) / trials;
  double bound = std::exp(0.5) / (1 + std::exp(0.5));
  INFO("attacker success " << rate << ", bound " << bound);
  CHECK(rate <= bound + 4 * std::sqrt(bound * (1 - bound) / trials));
  CHECK(rate >= 0.5);  // and the noise is not larger than it claims
}

TEST_CASE("sdc with totals: no suppressed cell can be recomputed from its table", "[sdc][query]") {
  Fixture f;
  f.t.WritePolicy("kaz.toml", R"(
[[grant]]
country = "KAZ"
consumer = "unhcr"
pop_types = ["REF", "ASY", "STA", "MIG"]
dimensions = ["coa", "coo", "pop_type", "sex", "age", "region"]
mechanism = "sdc"
threshold = 5
)");
  auto j = f.AskJson({{"ref_date", "2015-06-30"}, {"by", "pop_type,region"}, {"totals", "true"}});
  auto cells = ByKey(j);
  auto interior = test::TruthCounts(f.truth, "pop_type,region");
  // Exact values of every cell of the table, margins included.
  std::map<std::string, int64_t> exact;
  for (const auto& [key, n] : interior) {
    auto comma = key.find(',');
    std::string p = key.substr(0, comma), s = key.substr(comma + 1);
    for (const std::string& k : {key, p + ",_T", "_T," + s, std::string("_T,_T")}) exact[k] += n;
  }
  REQUIRE(cells.size() == exact.size());
  std::vector<sdc::Cell> table;
  size_t suppressed = 0;
  for (const auto& [key, n] : exact) {
    const auto& cell = cells.at(key);
    INFO(key << " = " << n);
    if (n < 5) CHECK(cell["status"] == "Q");
    if (cell["status"] == "Q") {
      ++suppressed;
      CHECK(cell["value"].is_null());
    } else {
      CHECK(cell["value"] == n);
    }
    auto comma = key.find(',');
    table.push_back(sdc::Cell{{key.substr(0, comma), key.substr(comma + 1)}, n, cell["status"] == "Q", n < 5});
  }
  CHECK(suppressed >= 2);
  // Every row and column hides no cell or at least two (its total included).
  std::map<std::string, int> per_line;
  for (const auto& c : table) {
    if (!c.suppressed) continue;
    ++per_line["row " + c.values[0]];
    ++per_line["col " + c.values[1]];
  }
  for (const auto& [line, n] : per_line) {
    INFO(line);
    CHECK(n >= 2);
  }
  CHECK(sdc::RecomputableCells(2, table).empty());
  // Asked without totals, the interior keeps the same pattern.
  auto plain = ByKey(f.AskJson({{"ref_date", "2015-06-30"}, {"by", "pop_type,region"}}));
  for (const auto& [key, cell] : plain) CHECK(cell == cells.at(key));
}

TEST_CASE("cells across countries and grants", "[query]") {
  Fixture f;
  // At KGZ's reference date: KAZ under dp, KGZ under sdc, TJK present with no grant.
  f.Ingest("KAZ", "kaz-1.csv", "kaz-1", {2015, 12, 31});
  f.Ingest("KGZ", "kgz-1.xml", "kgz-1", {2015, 12, 31});
  f.Ingest("TJK", "tjk-1.csv", "tjk-1", {2015, 12, 31});
  f.t.WritePolicy("all.toml", DpGrant("unhcr") + R"(
[[grant]]
country = "KGZ"
consumer = "unhcr"
pop_types = ["REF", "ASY", "STA"]
dimensions = ["coa", "pop_type", "sex"]
mechanism = "sdc"
threshold = 5
)");
  auto j = f.AskJson({{"ref_date", "2015-12-31"}, {"by", "coa,pop_type"}, {"totals", "true"}});
  CHECK(j["countries"]["included"] == nlohmann::json::array({"KAZ", "KGZ"}));
  REQUIRE(j["countries"]["excluded"].size() == 1);
  CHECK(j["countries"]["excluded"][0]["country"] == "TJK");
  auto cells = ByKey(j);
  CHECK_FALSE(cells.count("KGZ,MIG"));  // outside KGZ's grant: never returned
  // A combined total is suppressed whenever one of its parts is.
  for (const std::string p : {"REF", "ASY", "STA"}) {
    bool part_hidden = (cells.count("KAZ," + p) && cells["KAZ," + p]["status"] == "Q") ||
                       (cells.count("KGZ," + p) && cells["KGZ," + p]["status"] == "Q");
    if (part_hidden) CHECK(cells["_T," + p]["status"] == "Q");
  }
  // Named explicitly without a grant: 403. A dimension outside KGZ's grant: KGZ left out.
  CHECK(f.Ask({{"ref_date", "2015-12-31"}, {"coa", "KAZ,TJK"}, {"by", "pop_type"}}).status().code() ==
        Code::kPermissionDenied);
  auto by_coo = f.AskJson({{"ref_date", "2015-12-31"}, {"by", "coa,pop_type,coo"}});
  CHECK(by_coo["countries"]["included"] == nlohmann::json::array({"KAZ"}));
  bool named = false;
  for (const auto& e : by_coo["countries"]["excluded"]) {
    if (e["country"] == "KGZ") named = e["reason"].get<std::string>().find("\"coo\"") != std::string::npos;
  }
  CHECK(named);
  CHECK(f.Ask({{"ref_date", "2015-12-31"}, {"coa", "KGZ"}, {"by", "pop_type,coo"}}).status().code() ==
        Code::kPermissionDenied);
}

TEST_CASE("a dp table larger than dp_max_cells is refused as a query error", "[dp][query]") {
  Fixture f;
  f.t.WritePolicy("kaz.toml", DpGrant("unhcr"));
  // coo x sex x age x region x pop_type is far beyond the default 1,000,000 cells... or not:
  // 252 x 2 x 6 x 20 x 4 = 241,920. Force it with a small limit instead.
  DisclosureSettings s = *f.t.deployment().disclosure_settings();
  s.dp_max_cells = 1000;
  auto dc = MakeDisclosureControl(s);
  QueryEngine engine(f.t.deployment().store(), f.t.deployment().policies(), *dc);
  auto q = ParseAggregateQuery({{"ref_date", "2015-06-30"}, {"by", "pop_type,coo,sex"}});
  auto r = engine.Aggregate(*q, Principal{"unhcr", "consumer"});
  CHECK(r.status().code() == Code::kInvalidArgument);
  CHECK(r.status().message().find("1000 cells") != std::string::npos);
  CHECK(f.t.deployment().store().ListBudgetUse("unhcr")->empty());  // nothing charged
}

TEST_CASE("the global epsilon cap per snapshot applies across consumers", "[dp][query]") {
  Fixture f(QueryOptions{1000000});
  f.t.WritePolicy("kaz.toml", DpGrant("unhcr") + DpGrant("iom"));
  REQUIRE(f.Ask({{"ref_date", "2015-06-30"}, {"by", "pop_type"}}, "unhcr").ok());
  REQUIRE(f.Ask({{"ref_date", "2015-06-30"}, {"by", "pop_type,sex"}}, "iom").ok());
  auto third = f.Ask({{"ref_date", "2015-06-30"}, {"by", "pop_type,age"}}, "unhcr");
  CHECK(third.status().code() == Code::kResourceExhausted);
  CHECK(third.status().message().find("all consumers together") != std::string::npos);
}

TEST_CASE("repeated answers share their cells, and each body's digest covers exactly its bytes", "[dp][query]") {
  Fixture f;
  f.t.WritePolicy("kaz.toml", DpGrant("unhcr"));
  auto first = f.Ask({{"ref_date", "2015-06-30"}, {"by", "pop_type,coo,sex"}});
  auto again = f.Ask({{"ref_date", "2015-06-30"}, {"by", "pop_type,coo,sex"}});
  INFO((first.ok() ? std::string() : first.status().message()));
  REQUIRE(first.ok());
  REQUIRE(again.ok());
  REQUIRE(!first->cells.empty());
  // The same protected table combined the same way: one shared cell list.
  CHECK(&first->cells.vec() == &again->cells.vec());
  // A different order of `by` is a different combination.
  auto reordered = f.Ask({{"ref_date", "2015-06-30"}, {"by", "sex,pop_type,coo"}});
  REQUIRE(reordered.ok());
  CHECK(&reordered->cells.vec() != &first->cells.vec());
  CHECK(reordered->cells.size() == first->cells.size());

  // The first answer paid, the repeat did not: different budget figures after
  // the shared cells, and each digest is of its own body.
  AggregateResult::RenderedJson a = first->RenderJson(), b = again->RenderJson();
  CHECK(a.body != b.body);
  CHECK(a.sha256 == Sha256Of(a.body));
  CHECK(b.sha256 == Sha256Of(b.body));
  CHECK(nlohmann::json::parse(a.body)["cells"] == nlohmann::json::parse(b.body)["cells"]);
  // A result whose head changed is rendered anew, not from the other head's text.
  AggregateResult other = *again;
  other.ref_date = "2015-07-01";
  AggregateResult::RenderedJson c = other.RenderJson();
  CHECK(nlohmann::json::parse(c.body)["ref_date"] == "2015-07-01");
  CHECK(c.sha256 == Sha256Of(c.body));
  CHECK(nlohmann::json::parse(b.body)["ref_date"] == "2015-06-30");
}

}  // namespace gw
