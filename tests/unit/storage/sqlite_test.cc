#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>

#include "gateway/storage/sqlite.h"

namespace gw::sql {

TEST_CASE("compiled statements are reused, never shared while in use", "[storage]") {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("gw-sqlite-test-" + std::to_string(::getpid()) + ".db")).string();
  std::filesystem::remove(path);
  {
    auto conn = Connection::Open(path, Connection::Mode::kReadWriteCreate);
    REQUIRE(conn.ok());
    REQUIRE((*conn)->Exec("CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)").ok());
    const char* insert = "INSERT INTO t(k, v) VALUES (?, ?)";
    const char* select = "SELECT v FROM t WHERE k = ?";
    sqlite3_stmt* first_handle = nullptr;
    {
      auto ins = (*conn)->Prepare(insert);
      REQUIRE(ins.ok());
      REQUIRE(ins->Bind(1, int64_t{1}).Bind(2, std::string_view("one")).Run().ok());
      first_handle = sqlite3_next_stmt((*conn)->handle(), nullptr);
    }
    {
      // The same text again: the statement comes back reset, bindings cleared.
      auto ins = (*conn)->Prepare(insert);
      REQUIRE(ins.ok());
      CHECK(sqlite3_next_stmt((*conn)->handle(), nullptr) == first_handle);
      REQUIRE(ins->Bind(1, int64_t{2}).Bind(2, std::string_view("two")).Run().ok());
    }
    // Two live statements of the same text are two statements: a row half read
    // by one is not disturbed by the other.
    auto a = (*conn)->Prepare(select);
    auto b = (*conn)->Prepare(select);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    a->Bind(1, int64_t{1});
    b->Bind(1, int64_t{2});
    auto a_row = a->Step();
    auto b_row = b->Step();
    REQUIRE(a_row.ok());
    REQUIRE(b_row.ok());
    REQUIRE(*a_row);
    REQUIRE(*b_row);
    CHECK(a->Text(0) == "one");
    CHECK(b->Text(0) == "two");
    // A statement given back in the middle of its rows is reset: the next user
    // starts from its own bindings.
    { Statement done = std::move(*a); }
    auto again = (*conn)->Prepare(select);
    REQUIRE(again.ok());
    auto none = again->Step();  // no binding: k = NULL matches nothing
    REQUIRE(none.ok());
    CHECK(!*none);
  }
  std::filesystem::remove(path);
}

}  // namespace gw::sql
