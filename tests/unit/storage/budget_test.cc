// The budget ledger: exact integer micro-epsilon, repeats free, never
// overspent even under concurrent debits from many threads and two processes'
// worth of connections.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "gateway/storage/store.h"
#include "support/test_deployment.h"

namespace gw {
namespace {

BudgetCharge Charge(const std::string& table, int64_t version = 1) {
  return BudgetCharge{"KAZ", "2015-06-30", version, {table}, 500000, 2000000, 0};
}

}  // namespace

TEST_CASE("a new table costs epsilon, a repeat nothing, and the budget is a hard limit", "[budget]") {
  test::TempDir tmp;
  auto store = Store::Open(tmp.path() + "/g.db", true);
  REQUIRE(store.ok());
  Store& s = **store;
  const char* tables[] = {"coo", "sex", "coo,sex", "age"};
  for (int i = 0; i < 4; ++i) {
    auto out = s.ChargeBudget("unhcr", {Charge(tables[i])});
    REQUIRE(out.ok());
    CHECK((*out)[0].granted);
    CHECK((*out)[0].cost_micro == 500000);
    CHECK((*out)[0].remaining_micro == 2000000 - 500000 * (i + 1));
  }
  // The fifth new table is refused; nothing is debited.
  auto fifth = s.ChargeBudget("unhcr", {Charge("region")});
  REQUIRE(fifth.ok());
  CHECK_FALSE((*fifth)[0].granted);
  CHECK((*fifth)[0].remaining_micro == 0);
  CHECK((*fifth)[0].spent_before_micro == 2000000);
  // Repeats still answer, free.
  auto repeat = s.ChargeBudget("unhcr", {Charge("coo,sex")});
  CHECK((*repeat)[0].granted);
  CHECK((*repeat)[0].cost_micro == 0);
  // A new version is a new release of the same table, paid from the same budget.
  auto v2 = s.ChargeBudget("unhcr", {Charge("coo", 2)});
  CHECK_FALSE((*v2)[0].granted);
  // Another consumer has its own budget.
  CHECK((*s.ChargeBudget("iom", {Charge("coo")}))[0].granted);
  auto uses = s.ListBudgetUse("unhcr");
  REQUIRE(uses.ok());
  REQUIRE(uses->size() == 1);
  CHECK((*uses)[0].spent_micro == 2000000);
  CHECK((*uses)[0].tables == 4);
  CHECK(s.ListBudgetUse("")->size() == 2);
  CHECK(*s.HasBudgetEntries());
}

TEST_CASE("all-or-nothing charges debit nothing when one part is refused", "[budget]") {
  test::TempDir tmp;
  auto store = Store::Open(tmp.path() + "/g.db", true);
  Store& s = **store;
  BudgetCharge kaz = Charge("coo");
  BudgetCharge kgz{"KGZ", "2015-12-31", 1, {"coo"}, 500000, 400000, 0};  // costs more than its budget
  auto out = s.ChargeBudget("unhcr", {kaz, kgz}, true);
  REQUIRE(out.ok());
  CHECK_FALSE((*out)[0].granted);
  CHECK_FALSE((*out)[1].granted);
  CHECK(s.ListBudgetUse("unhcr")->empty());
  // Decided separately, KAZ is granted and KGZ refused.
  auto separate = s.ChargeBudget("unhcr", {kaz, kgz}, false);
  CHECK((*separate)[0].granted);
  CHECK_FALSE((*separate)[1].granted);
}

TEST_CASE("the global cap per snapshot limits all consumers together", "[budget]") {
  test::TempDir tmp;
  auto store = Store::Open(tmp.path() + "/g.db", true);
  Store& s = **store;
  BudgetCharge c = Charge("coo");
  c.global_cap_micro = 1000000;
  CHECK((*s.ChargeBudget("a", {c}))[0].granted);
  CHECK((*s.ChargeBudget("b", {c}))[0].granted);
  auto third = s.ChargeBudget("c", {c});
  CHECK_FALSE((*third)[0].granted);
  CHECK((*third)[0].global_cap_reached);
  CHECK((*third)[0].global_spent_micro == 1000000);
}

TEST_CASE("a budget race between many threads and two store handles never overspends", "[budget]") {
  test::TempDir tmp;
  const std::string path = tmp.path() + "/g.db";
  auto first = Store::Open(path, true);
  auto second = Store::Open(path, false);  // as a second process would
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  // Budget 2.0 at 0.5 a table: exactly 4 of the 64 distinct tables may be bought.
  std::atomic<int> granted{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      Store& s = t % 2 == 0 ? **first : **second;
      for (int i = 0; i < 4; ++i) {
        auto out = s.ChargeBudget("unhcr", {Charge("table" + std::to_string(t * 4 + i))});
        if (!out.ok()) {
          ++failed;  // SQLITE_BUSY beyond the busy timeout would show here
          continue;
        }
        if ((*out)[0].granted) ++granted;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failed == 0);
  CHECK(granted == 4);
  auto uses = (*first)->ListBudgetUse("unhcr");
  REQUIRE(uses->size() == 1);
  CHECK((*uses)[0].spent_micro == 2000000);
  CHECK((*uses)[0].tables == 4);
}

}  // namespace gw
