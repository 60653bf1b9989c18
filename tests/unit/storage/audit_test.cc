#include <catch2/catch.hpp>

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
