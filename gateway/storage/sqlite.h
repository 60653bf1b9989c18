// A thin RAII layer over the SQLite C API: connections, prepared statements
// and transactions, reporting failures as Status values. Only prepared
// statements with bound parameters are used; SQL text never contains data.
//
// A connection keeps the statements it has compiled: when a Statement is
// destroyed its compiled form goes back to the connection (reset, bindings
// cleared), and the next Prepare() of the same SQL text takes it instead of
// compiling again, which is much of the cost of a short query. Statements in
// use are never shared: a second Prepare() of SQL that is in use compiles anew.
//
// Thread-safety: a Connection and its Statements belong to one thread at a
// time (SQLite's multi-thread mode); use one connection per thread. Statements
// must be destroyed before their connection.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "gateway/common/status.h"

namespace gw::sql {

class Statement;

class Connection {
 public:
  enum class Mode { kReadWriteCreate, kReadWrite, kReadOnly };
  // While another connection (in any process) holds the write lock, a
  // statement waits up to `busy_timeout` for it before failing with BUSY.
  static constexpr std::chrono::milliseconds kDefaultBusyTimeout{10000};
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, Mode mode,
                                                  std::chrono::milliseconds busy_timeout = kDefaultBusyTimeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs SQL without parameters (DDL, pragmas, BEGIN/COMMIT).
  Status Exec(const std::string& sql);
  Result<Statement> Prepare(std::string_view sql);
  int64_t LastInsertRowid() const;
  int Changes() const;
  sqlite3* handle() { return db_; }
  Status Error(const std::string& what) const;

 private:
  friend class Statement;
  explicit Connection(sqlite3* db) : db_(db) {}
  void Recycle(sqlite3_stmt* stmt);

  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  static constexpr size_t kMaxIdleStatements = 64;

  sqlite3* db_;
  // Compiled statements not in use, by SQL text.
  std::unordered_map<std::string, sqlite3_stmt*, SqlHash, std::equal_to<>> idle_;
};

class Statement {
 public:
  Statement(Statement&& o) noexcept : stmt_(o.stmt_), conn_(o.conn_) { o.stmt_ = nullptr; }
  Statement& operator=(Statement&& o) noexcept;
  ~Statement();

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, std::string_view text);
  Statement& BindBlob(int index, const void* data, size_t size);
  Statement& BindNull(int index);
  // Steps once: true when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion (for statements returning no rows).
  Status Run();
  Status Reset();  // reset and clear bindings, for reuse

  int64_t Int(int col) const;
  std::string Text(int col) const;
  std::string Blob(int col) const;
  bool IsNull(int col) const;

 private:
  friend class Connection;
  Statement(sqlite3_stmt* s, Connection* c) : stmt_(s), conn_(c) {}
  sqlite3_stmt* stmt_;
  Connection* conn_;
};

// BEGIN IMMEDIATE on construction (takes the write lock up front, so two
// writers never deadlock upgrading); ROLLBACK on destruction unless committed.
class Transaction {
 public:
  static Result<std::unique_ptr<Transaction>> Begin(Connection& conn);
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(Connection& c) : conn_(c) {}
  Connection& conn_;
  bool done_ = false;
};

}  // namespace gw::sql
