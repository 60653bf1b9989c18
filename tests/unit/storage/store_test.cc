#include <catch2/catch.hpp>

#include "gateway/storage/store.h"
#include "support/test_deployment.h"

namespace gw {

namespace {
PersonKey Key(uint8_t b) {
  PersonKey k{};
  k.fill(b);
  return k;
}
StoredPerson Person(const std::string& pop, const std::string& coo, bool in_stock) {
  return StoredPerson{pop, coo, "F", "18-59", "KZ-75", "2014-03", "", in_stock};
}
}  // namespace

TEST_CASE("snapshots commit atomically, version and stay listed", "[storage]") {
  test::TempDir tmp;
  auto store = Store::Open(tmp.path() + "/g.db", true);
  REQUIRE(store.ok());
  Store& s = **store;

  {
    auto w = s.BeginSnapshot("KAZ", "2015-06-30", "kaz-1");
    REQUIRE(w.ok());
    CHECK((*w)->version() == 1);
    REQUIRE((*w)->AddPerson(Key(2), Person("REF", "AFG", true), 10).ok());
    REQUIRE((*w)->AddPerson(Key(1), Person("REF", "AFG", true), 11).ok());
    REQUIRE((*w)->AddPerson(Key(1), Person("REF", "AFG", false), 12).ok());  // duplicate key
    auto duplicates = (*w)->ResolvePersons(true);
    REQUIRE(duplicates.ok());
    REQUIRE(duplicates->size() == 1);
    CHECK((*duplicates)[0].row == 12);  // the earliest row of a key is kept
    CHECK_FALSE((*duplicates)[0].in_stock);
    // Not committed: dropped when the writer goes away.
  }
  CHECK_FALSE(s.CurrentSnapshot("KAZ", "2015-06-30")->has_value());
  CHECK(s.ListSnapshots("")->empty());

  for (int v = 1; v <= 2; ++v) {
    auto w = s.BeginSnapshot("KAZ", "2015-06-30", "kaz-1");
    REQUIRE(w.ok());
    CHECK((*w)->version() == v);
    (*w)->AddCount({"REF", "AFG", "F", "18-59", "KZ-75"}, 3 * v);
    (*w)->AddCount({"MIG", "UZB", "M", "18-59", "KZ-75"}, 2);
    (*w)->AddCount({"MIG", "UZB", "M", "60+", "KZ-71"}, 5);
    REQUIRE((*w)->Commit("sha256:v" + std::to_string(v), SnapshotTotals{3, 3, 0, 3, 0}, "{}", "test").ok());
  }
  auto current = s.CurrentSnapshot("KAZ", "2015-06-30");
  REQUIRE(current.ok());
  REQUIRE(current->has_value());
  CHECK((*current)->version == 2);
  CHECK((*current)->digest == "sha256:v2");
  auto all = s.ListSnapshots("KAZ");
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].current);
  CHECK_FALSE((*all)[1].current);

  std::array<std::vector<std::string>, kDimCount> no_filter;
  auto by_pop = s.ReadCounts((*current)->id, {Dim::kPopType}, no_filter);
  REQUIRE(by_pop->size() == 2);
  CHECK((*by_pop)[0].values == std::vector<std::string>{"MIG"});
  CHECK((*by_pop)[0].count == 7);
  CHECK((*by_pop)[1].count == 6);

  auto filters = no_filter;
  filters[DimIndex(Dim::kRegion)] = {"KZ-71"};
  auto filtered = s.ReadCounts((*current)->id, {Dim::kPopType, Dim::kRegion}, filters);
  REQUIRE(filtered->size() == 1);
  CHECK((*filtered)[0].count == 5);

  auto total = s.ReadCounts((*current)->id, {}, no_filter);
  REQUIRE(total->size() == 1);
  CHECK((*total)[0].count == 13);
  CHECK(s.CheckIntegrity().ok());
}

TEST_CASE("the store refuses a database from a newer gateway and damaged files", "[storage]") {
  test::TempDir tmp;
  std::string path = tmp.path() + "/g.db";
  {
    auto store = Store::Open(path, true);
    REQUIRE(store.ok());
    auto conn = sql::Connection::Open(path, sql::Connection::Mode::kReadWrite);
    REQUIRE((*conn)->Exec("PRAGMA user_version=99").ok());
  }
  auto newer = Store::Open(path, false);
  REQUIRE_FALSE(newer.ok());
  CHECK(newer.status().message().find("newer") != std::string::npos);

  std::string garbage = tmp.path() + "/garbage.db";
  test::WriteFile(garbage, std::string(8192, 'x'));
  auto bad = Store::Open(garbage, false);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == Code::kCorruption);
}

TEST_CASE("consumers are found by token hash only", "[storage]") {
  test::TempDir tmp;
  auto store = Store::Open(tmp.path() + "/g.db", true);
  REQUIRE((*store)->AddConsumer("unhcr", "consumer", "hash-1").ok());
  CHECK((*store)->AddConsumer("unhcr", "consumer", "hash-2").code() == Code::kConflict);
  auto found = (*store)->FindConsumerByTokenHash("hash-1");
  REQUIRE(found->has_value());
  CHECK((*found)->name == "unhcr");
  CHECK_FALSE((*store)->FindConsumerByTokenHash("hash-2")->has_value());
}

}  // namespace gw
