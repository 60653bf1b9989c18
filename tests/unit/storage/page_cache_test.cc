// Reading a database file in order before the start-up check: every byte up
// to the bound, a missing WAL as nothing, and an unreadable path or anything
// but a regular file as an error that names it.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstdint>
#include <limits>
#include <string>

#include "gateway/storage/page_cache.h"
#include "support/test_deployment.h"

namespace gw {
namespace {

TEST_CASE("a file is read into the page cache up to the bound given", "[storage][page_cache]") {
  test::TempDir tmp;
  const std::string path = tmp.path() + "/gateway.db";
  const size_t size = (size_t{3} << 20) + 123;  // three reads of 1 MiB and a short one
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>(i * 7);
  test::WriteFile(path, bytes);

  auto all = ReadIntoPageCache(path, std::numeric_limits<uint64_t>::max());
  REQUIRE(all.ok());
  CHECK(*all == size);

  auto bounded = ReadIntoPageCache(path, (uint64_t{1} << 20) + 5);
  REQUIRE(bounded.ok());
  CHECK(*bounded == (uint64_t{1} << 20) + 5);

  auto none = ReadIntoPageCache(path, 0);
  REQUIRE(none.ok());
  CHECK(*none == 0);

  CHECK(test::ReadFile(path) == bytes);  // only read, never changed
}

TEST_CASE("a missing file reads as nothing, an unreadable one is an error naming it",
          "[storage][page_cache]") {
  test::TempDir tmp;
  auto missing = ReadIntoPageCache(tmp.path() + "/gateway.db-wal", 1 << 20);
  REQUIRE(missing.ok());
  CHECK(*missing == 0);

  const std::string dir = tmp.path() + "/not-a-file";
  REQUIRE(::mkdir(dir.c_str(), 0700) == 0);
  auto directory = ReadIntoPageCache(dir, 1 << 20);
  REQUIRE_FALSE(directory.ok());
  CHECK(directory.status().code() == Code::kIoError);
  CHECK(directory.status().message().find(dir) != std::string::npos);
}

TEST_CASE("a database is read ahead with its WAL, the two within one bound",
          "[storage][page_cache]") {
  test::TempDir tmp;
  const std::string db = tmp.path() + "/gateway.db";
  test::WriteFile(db, std::string(300000, 'd'));
  CHECK(ReadDatabaseAhead(db) == 300000);  // no WAL beside it
  test::WriteFile(db + "-wal", std::string(70000, 'w'));
  CHECK(ReadDatabaseAhead(db) == 370000);
  CHECK(ReadDatabaseAhead(db, 350000) == 350000);  // the WAL gets what is left
  CHECK(ReadDatabaseAhead(db, 200000) == 200000);  // the database first
}

TEST_CASE("a FIFO in the database's place is refused at once, not waited on",
          "[storage][page_cache]") {
  test::TempDir tmp;
  const std::string fifo = tmp.path() + "/gateway.db";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto read = ReadIntoPageCache(fifo, 1 << 20);  // would block forever without a writer
  REQUIRE_FALSE(read.ok());
  CHECK(read.status().message() == fifo + " is not a regular file");
  CHECK(ReadDatabaseAhead(fifo, 1 << 20) == 0);
}

TEST_CASE("the memory available is read from /proc/meminfo", "[storage][page_cache]") {
  // Every Linux since 3.14 reports MemAvailable; the bound that the start-up
  // check uses is half of it.
  CHECK(AvailableMemoryBytes() > (uint64_t{1} << 20));
}

}  // namespace
}  // namespace gw
