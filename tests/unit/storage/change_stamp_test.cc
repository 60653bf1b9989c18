// The change stamp and the caches it guards: what one process changes, another
// sees at once, while the audit log (written on every release) leaves the
// caches alone.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "gateway/storage/change_stamp.h"
#include "gateway/storage/store.h"
#include "support/test_deployment.h"

namespace gw {
namespace {

BudgetCharge Charge(const std::string& table) {
  return BudgetCharge{"KAZ", "2015-06-30", 1, {table}, 500000, 2000000, 0};
}

Status CommitSnapshot(Store& s, int64_t count) {
  GW_ASSIGN_OR_RETURN(auto w, s.BeginSnapshot("KAZ", "2015-06-30", "kaz-1"));
  w->AddCount({"REF", "AFG", "F", "18-59", "KZ-75"}, count);
  return w->Commit("sha256:" + std::to_string(count), SnapshotTotals{1, 1, 0, 1, 0}, "{}", "test");
}

}  // namespace

TEST_CASE("the change stamp is shared by every opener of the database", "[storage][stamp]") {
  test::TempDir tmp;
  const std::string db = tmp.path() + "/g.db";
  ChangeStamp a, b;
  REQUIRE(a.Open(db));
  REQUIRE(b.Open(db));
  const uint64_t before = a.Load();
  CHECK(b.Load() == before);
  b.Bump();
  CHECK(a.Load() == before + 1);
  CHECK(b.Load() == before + 1);

  // Without a file the stamp never repeats, so nothing is served from a cache.
  ChangeStamp unmapped;
  CHECK(unmapped.Load() != unmapped.Load());
}

TEST_CASE("a stamped cache serves a value only while its stamp holds, and not for ever",
          "[storage][stamp]") {
  StampedCache<int> cache(2, std::chrono::milliseconds(50));
  cache.Put("a", 7, std::make_shared<const int>(1));
  REQUIRE(cache.Get("a", 7) != nullptr);
  CHECK(*cache.Get("a", 7) == 1);
  CHECK(cache.Get("a", 8) == nullptr);  // the state moved on
  CHECK(cache.Get("a", 7) == nullptr);  // and the stale entry is gone
  cache.Put("b", 7, std::make_shared<const int>(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(80));
  CHECK(cache.Get("b", 7) == nullptr);  // too old, whatever the stamp
  cache.Put("c", 7, std::make_shared<const int>(3));
  cache.Put("d", 7, std::make_shared<const int>(4));
  cache.Put("e", 7, std::make_shared<const int>(5));  // over two entries: starts afresh
  CHECK(cache.Get("c", 7) == nullptr);
  CHECK(*cache.Get("e", 7) == 5);
}

TEST_CASE("a change made through another Store is seen at once through the first", "[storage][stamp]") {
  test::TempDir tmp;
  const std::string db = tmp.path() + "/g.db";
  auto server = Store::Open(db, true);  // stands for the running server
  auto cli = Store::Open(db, false);    // stands for a CLI command in another process
  REQUIRE(server.ok());
  REQUIRE(cli.ok());
  Store& s = **server;
  Store& c = **cli;

  // A revoked token stops working at once.
  REQUIRE(c.AddConsumer("unhcr", "consumer", "hash-1").ok());
  REQUIRE(s.FindConsumerByTokenHash("hash-1")->has_value());
  REQUIRE(s.FindConsumerByTokenHash("hash-1")->has_value());  // now from memory
  REQUIRE(c.RevokeConsumer("unhcr", "cli").ok());
  CHECK_FALSE(s.FindConsumerByTokenHash("hash-1")->has_value());

  // A new current snapshot replaces the cached one.
  REQUIRE(CommitSnapshot(c, 3).ok());
  auto first = s.CurrentSnapshots("2015-06-30");
  REQUIRE(first.ok());
  REQUIRE(first->size() == 1);
  CHECK((*first)[0].version == 1);
  CHECK((*first)[0].receipt_json.empty());  // the list leaves receipts out
  REQUIRE(CommitSnapshot(c, 4).ok());
  auto second = s.CurrentSnapshots("2015-06-30");
  REQUIRE(second->size() == 1);
  CHECK((*second)[0].version == 2);

  // A repeat's answer reports what was spent, including debits made elsewhere.
  REQUIRE((*s.ChargeBudget("iom", {Charge("coo")}))[0].granted);
  auto repeat = s.ChargeBudget("iom", {Charge("coo")});
  CHECK((*repeat)[0].spent_before_micro == 500000);
  REQUIRE((*c.ChargeBudget("iom", {Charge("sex")}))[0].granted);
  auto after = s.ChargeBudget("iom", {Charge("coo")});
  REQUIRE(after.ok());
  CHECK((*after)[0].granted);
  CHECK((*after)[0].cost_micro == 0);
  CHECK((*after)[0].spent_before_micro == 1000000);

  // Audit entries, written on every release, leave the stamp alone.
  const uint64_t stamp = s.ChangeStampValue();
  REQUIRE(s.AppendAudit("aggregate.release", "iom", "{}").ok());
  CHECK(s.ChangeStampValue() == stamp);
}

TEST_CASE("audit entries handed over asynchronously are durable when their completion runs",
          "[storage][audit]") {
  test::TempDir tmp;
  const std::string db = tmp.path() + "/g.db";
  {
    auto store = Store::Open(db, true);
    REQUIRE(store.ok());
    Store& s = **store;
    // Catch's assertions are not for other threads: the completions only record.
    std::mutex mu;
    std::vector<int> completed;
    int failed = 0;
    for (int i = 0; i < 50; ++i) {
      s.AppendAuditAsync("test.async", "tester", "{\"i\":" + std::to_string(i) + "}", [&, i](Status st) {
        std::lock_guard<std::mutex> lock(mu);
        if (!st.ok()) ++failed;
        completed.push_back(i);
      });
    }
    REQUIRE(s.AppendAudit("test.sync", "tester", "{}").ok());  // after all of them
    std::lock_guard<std::mutex> lock(mu);
    CHECK(completed.size() == 50);
    CHECK(failed == 0);
    // Entries still queued when the Store goes away are written, not lost.
    for (int i = 0; i < 20; ++i) s.AppendAuditAsync("test.late", "tester", "{}", [](Status) {});
  }
  auto reopened = Store::Open(db, false);
  auto v = (*reopened)->VerifyAudit();
  REQUIRE(v.ok());
  CHECK(v->ok);
  CHECK(v->entries == 71);
  auto list = (*reopened)->ListAudit(0, 100);
  REQUIRE(list->size() == 71);
  CHECK((*list)[0].detail == "{\"i\":0}");
  CHECK((*list)[49].detail == "{\"i\":49}");  // in the order they were handed over
  CHECK((*list)[50].kind == "test.sync");
}

TEST_CASE("a read-only directory turns the caches off instead of failing", "[storage][stamp]") {
  test::TempDir tmp;
  const std::string dir = tmp.path() + "/ro";
  REQUIRE(mkdir(dir.c_str(), 0700) == 0);
  ChangeStamp stamp;
  REQUIRE(chmod(dir.c_str(), 0500) == 0);
  const bool opened = stamp.Open(dir + "/g.db");
  REQUIRE(chmod(dir.c_str(), 0700) == 0);
  if (geteuid() != 0) {  // root writes anywhere
    CHECK_FALSE(opened);
    CHECK(stamp.Load() != stamp.Load());
  }
}

}  // namespace gw
