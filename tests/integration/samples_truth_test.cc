// Every national sample in tests/fixtures/ against its truth file, through the
// whole ingest pipeline (adapter, pseudonymisation, duplicate detection, store):
// strict ingest rejects exactly the truth's invalid rows, partial ingest
// commits and stores exactly the truth's counts.
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "gateway/ingest/ingest.h"
#include "gateway/query/query_engine.h"
#include "gateway/schema/adapter_registry.h"
#include "support/test_deployment.h"

namespace gw {
namespace {

struct Sample {
  std::string truth_file, data_file, charset;
};

std::vector<Sample> Samples() {
  std::vector<Sample> out;
  for (const auto& e : std::filesystem::directory_iterator(GW_FIXTURES_DIR)) {
    std::string name = e.path().filename().string();
    const std::string suffix = ".truth.json";
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    std::string stem = name.substr(0, name.size() - suffix.size());
    for (const auto& d : std::filesystem::directory_iterator(GW_FIXTURES_DIR)) {
      std::string dn = d.path().filename().string();
      if (dn != name && dn.rfind(stem + ".", 0) == 0 && dn.find(".truth.") == std::string::npos &&
          dn.find('.', stem.size() + 1) == std::string::npos) {
        out.push_back({name, dn, stem.find("rk1048") != std::string::npos ? "rk1048" : ""});
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const Sample& a, const Sample& b) { return a.truth_file < b.truth_file; });
  return out;
}

const std::vector<std::string> kTables = {"pop_type", "pop_type,coo", "pop_type,sex,age", "pop_type,region", "full"};

std::vector<Dim> DimsOf(const std::string& table) {
  if (table == "full") return {Dim::kPopType, Dim::kCoo, Dim::kSex, Dim::kAge, Dim::kRegion};
  std::vector<Dim> dims;
  size_t start = 0;
  while (true) {
    size_t comma = table.find(',', start);
    dims.push_back(*DimFromName(table.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return dims;
}

}  // namespace

TEST_CASE("every sample against its truth file, through the whole pipeline", "[samples]") {
  auto samples = Samples();
  REQUIRE(samples.size() >= 2);
  for (const auto& s : samples) {
    auto truth = test::Truth(s.truth_file);
    std::string profile = truth["profile"];
    if (AdapterRegistry::Global().Find(profile) == nullptr) {
      WARN("profile " << profile << " is not in this build; skipping " << s.data_file);
      continue;
    }
    DYNAMIC_SECTION(s.data_file) {
      test::TestDeployment t;
      Ingestor ingestor(t.deployment().store(), t.deployment().keys());
      IngestRequest req{truth["country"], *ParseIsoDate(truth["ref_date"].get<std::string>()), profile,
                        s.charset, false};
      std::string text = test::ReadFile(test::FixturePath(s.data_file));
      std::set<uint64_t> want;
      for (const auto& e : truth["invalid"]) want.insert(e["row"].get<uint64_t>());

      StringSource strict_src(text);
      auto strict = ingestor.Ingest(req, strict_src);
      REQUIRE(strict.ok());
      INFO(strict->ToJson(1));
      std::set<uint64_t> got;
      for (const auto& e : strict->rejected) got.insert(e.row);
      CHECK(got == want);
      CHECK(strict->rejected.size() == want.size());
      CHECK(strict->committed() == want.empty());

      req.partial = true;
      StringSource partial_src(text);
      auto partial = ingestor.Ingest(req, partial_src);
      REQUIRE(partial.ok());
      REQUIRE(partial->committed());
      CHECK(partial->in_stock == truth["in_stock"].get<int64_t>());
      if (!truth["rows"].is_null()) {
        CHECK(partial->rows == truth["rows"].get<int64_t>());
        CHECK(partial->accepted == truth["valid"].get<int64_t>());
        CHECK(partial->expired == truth["expired"].get<int64_t>());
      }
      auto current = t.deployment().store().CurrentSnapshot(truth["country"], truth["ref_date"]);
      REQUIRE(current.ok());
      REQUIRE(current->has_value());
      std::array<std::vector<std::string>, kDimCount> no_filter;
      for (const auto& table : kTables) {
        auto rows = t.deployment().store().ReadCounts((*current)->id, DimsOf(table), no_filter);
        REQUIRE(rows.ok());
        std::map<std::string, int64_t> stored;
        for (const auto& r : *rows) {
          std::string key;
          for (const auto& v : r.values) key += (key.empty() ? "" : ",") + v;
          stored[key] = r.count;
        }
        INFO("table " << table);
        CHECK(stored == test::TruthCounts(truth, table));
      }

      // And what a consumer gets under a `none` grant equals the truth.
      t.WritePolicy("none.toml", "[[grant]]\ncountry = \"" + truth["country"].get<std::string>() +
                                     "\"\nconsumer = \"analyst\"\npop_types = [\"REF\", \"ASY\", \"STA\", "
                                     "\"MIG\"]\ndimensions = [\"coo\", \"pop_type\", \"sex\", \"age\", "
                                     "\"region\"]\nmechanism = \"none\"\n");
      auto dc = MakeDisclosureControl();
      QueryEngine engine(t.deployment().store(), t.deployment().policies(), *dc);
      auto q = ParseAggregateQuery({{"ref_date", truth["ref_date"].get<std::string>()},
                                    {"by", "pop_type,coo,sex,age,region"}});
      REQUIRE(q.ok());
      auto answer = engine.Aggregate(*q, Principal{"analyst", "consumer"});
      REQUIRE(answer.ok());
      auto j = nlohmann::json::parse(answer->ToJson());
      CHECK(test::CountsByKey(j, {"pop_type", "coo", "sex", "age", "region"}) == test::TruthCounts(truth, "full"));
    }
  }
}

}  // namespace gw
