#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "gateway/storage/store.h"
#include "support/test_deployment.h"

namespace gw {

TEST_CASE("the audit chain verifies and names the first altered entry", "[audit]") {
  test::TempDir tmp;
  std::string path = tmp.path() + "/g.db";
  auto store = Store::Open(path, true);
  REQUIRE(store.ok());
  Store& s = **store;
  REQUIRE(s.AddConsumer("unhcr", "consumer", "h1").ok());
  for (int i = 0; i < 5; ++i) REQUIRE(s.AppendAudit("test.event", "tester", "{\"i\":" + std::to_string(i) + "}").ok());
  REQUIRE(s.RevokeConsumer("unhcr", "cli").ok());
  CHECK(s.RevokeConsumer("unhcr", "cli").code() == Code::kNotFound);
  auto v = s.VerifyAudit();
  REQUIRE(v.ok());
  CHECK(v->ok);
  CHECK(v->entries == 7);
  auto list = s.ListAudit(2, 100);
  REQUIRE(list->size() == 5);
  CHECK((*list)[0].seq == 3);
  CHECK(list->back().kind == "consumer.revoke");

  auto conn = sql::Connection::Open(path, sql::Connection::Mode::kReadWrite);
  REQUIRE((*conn)->Exec("UPDATE audit SET detail = '{\"i\":99}' WHERE seq = 4").ok());
  auto broken = s.VerifyAudit();
  REQUIRE(broken.ok());
  CHECK_FALSE(broken->ok);
  CHECK(broken->first_broken_seq == 4);

  REQUIRE((*conn)->Exec("DELETE FROM audit WHERE seq = 2").ok());
  auto gap = s.VerifyAudit();
  CHECK(gap->first_broken_seq == 2);
}

TEST_CASE("the audit thread counts its batches, entries and waits", "[audit]") {
  test::TempDir tmp;
  const std::string path = tmp.path() + "/g.db";
  auto store = Store::Open(path, true, std::chrono::milliseconds(50));
  REQUIRE(store.ok());
  Store& s = **store;
  Store::AuditStats before = s.audit_stats();
  CHECK(before.commits == 0);
  CHECK(before.entries == 0);

  // One at a time: a batch each, and each entry waits at least its commit.
  for (int i = 0; i < 3; ++i) REQUIRE(s.AppendAudit("test.event", "tester", "{}").ok());
  Store::AuditStats one_by_one = s.audit_stats();
  CHECK(one_by_one.commits == 3);
  CHECK(one_by_one.entries == 3);
  CHECK(one_by_one.failed_commits == 0);
  CHECK(one_by_one.wait_micros >= one_by_one.commit_micros);

  // Together: every entry counted once, in at most as many batches.
  std::mutex mu;
  std::condition_variable cv;
  int durable = 0, failed = 0;  // Catch2 asserts on this thread only
  for (int i = 0; i < 50; ++i) {
    s.AppendAuditAsync("test.async", "tester", "{}", [&](Status st) {
      std::lock_guard<std::mutex> lock(mu);
      ++durable;
      failed += st.ok() ? 0 : 1;
      cv.notify_one();
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return durable == 50; });
  }
  CHECK(failed == 0);
  Store::AuditStats together = s.audit_stats();
  CHECK(together.entries == 53);
  CHECK(together.commits > 3);
  CHECK(together.commits <= 53);
  CHECK(together.wait_micros >= one_by_one.wait_micros);

  // A batch that cannot commit (another writer holds the lock past the busy
  // timeout) is counted as failed, and its entry not at all.
  auto other = sql::Connection::Open(path, sql::Connection::Mode::kReadWrite);
  REQUIRE(other.ok());
  REQUIRE((*other)->Exec("BEGIN IMMEDIATE").ok());
  CHECK_FALSE(s.AppendAudit("test.blocked", "tester", "{}").ok());
  REQUIRE((*other)->Exec("ROLLBACK").ok());
  Store::AuditStats after = s.audit_stats();
  CHECK(after.failed_commits == 1);
  CHECK(after.entries == 53);
  CHECK(after.commits == together.commits);
}

TEST_CASE("ministry keys and nonces", "[audit]") {
  test::TempDir tmp;
  auto store = Store::Open(tmp.path() + "/g.db", true);
  Store& s = **store;
  MinistryKey k{"0123456789abcdef", "KAZ", std::string(32, 'k'), ""};
  REQUIRE(s.AddMinistryKey(k, "cli").ok());
  CHECK(s.AddMinistryKey(k, "cli").code() == Code::kConflict);
  auto found = s.FindMinistryKey("0123456789abcdef");
  REQUIRE(found->has_value());
  CHECK((*found)->country == "KAZ");
  CHECK(*s.UseNonce(k.keyid, "n1", 1000, 0));
  CHECK_FALSE(*s.UseNonce(k.keyid, "n1", 1000, 0));
  CHECK(*s.UseNonce(k.keyid, "n2", 1000, 0));
  CHECK(s.RevokeMinistryKey("KGZ", k.keyid, "cli").code() == Code::kNotFound);
  REQUIRE(s.RevokeMinistryKey("KAZ", k.keyid, "cli").ok());
  CHECK_FALSE(s.FindMinistryKey(k.keyid)->has_value());
  CHECK(s.VerifyAudit()->entries == 2);
}

}  // namespace gw
