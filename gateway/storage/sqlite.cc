#include "gateway/storage/sqlite.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>

namespace gw::sql {
namespace {

// Why a write failed. SQLite keeps errno only sometimes (a failed COMMIT
// usually loses it), so without one the likely causes are checked directly:
// this process's file size limit (ulimit -f) and the free space of the disk.
std::string WriteFailureCause(sqlite3* db, int sys) {
  if (sys == ENOSPC || sys == EDQUOT) return "the disk holding the database is full";
  if (sys == EFBIG) return "the database reached a file size limit";
  const char* file = sqlite3_db_filename(db, "main");
  const std::string path = file != nullptr ? file : "";
  rlimit lim{};
  if (!path.empty() && getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
    for (const char* suffix : {"", "-wal"}) {
      struct stat st {};
      if (stat((path + suffix).c_str(), &st) == 0 && static_cast<rlim_t>(st.st_size) + (1 << 20) >= lim.rlim_cur) {
        return "the database reached this process's file size limit (ulimit -f, " + std::to_string(lim.rlim_cur) +
               " bytes)";
      }
    }
  }
  struct statvfs fs {};
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  if (statvfs(dir.c_str(), &fs) == 0 && static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize < (uint64_t{64} << 20)) {
    return "the disk holding the database is full";
  }
  return "a write to the database failed: the disk may be full, over a quota, or failing";
}

}  // namespace

namespace {
// SQLite keeps memory statistics by default, behind one process-wide mutex
// taken on every allocation: with several threads querying at once, that
// mutex was where they queued (a third of the context switches of a query
// load). Nothing here reads those statistics. sqlite3_config must run before
// the library initialises, hence before the first connection.
void ConfigureLibraryOnce() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}
}  // namespace

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, Mode mode,
                                                     std::chrono::milliseconds busy_timeout) {
  ConfigureLibraryOnce();
  int flags = SQLITE_OPEN_NOMUTEX;
  switch (mode) {
    case Mode::kReadWriteCreate: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE; break;
    case Mode::kReadWrite: flags |= SQLITE_OPEN_READWRITE; break;
    case Mode::kReadOnly: flags |= SQLITE_OPEN_READONLY; break;
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status::IoError("cannot open database " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(db, 1);
  // Another process (a CLI ingest beside the server) may hold the write lock
  // for a while; wait rather than fail at once.
  sqlite3_busy_timeout(db, static_cast<int>(std::clamp<int64_t>(busy_timeout.count(), 0, INT32_MAX)));
  return std::unique_ptr<Connection>(new Connection(db));
}

Connection::~Connection() {
  for (auto& [sql, stmt] : idle_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

void Connection::Recycle(sqlite3_stmt* stmt) {
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  // Statements built from varying SQL (the counts reader's) could fill the
  // map without bound: keep a few dozen, finalize the rest.
  if (idle_.size() < kMaxIdleStatements && idle_.try_emplace(sqlite3_sql(stmt), stmt).second) return;
  sqlite3_finalize(stmt);
}

Status Connection::Error(const std::string& what) const {
  int rc = sqlite3_extended_errcode(db_);
  std::string msg = what + ": " + sqlite3_errmsg(db_);
  // A write that fails for lack of space (ENOSPC, a quota, a file size limit)
  // is reported by SQLite as SQLITE_FULL or as a plain I/O error, depending on
  // whether part of it was written: name the cause either way. Out of space
  // and read-only are the operator's to fix, and the request may succeed
  // later: Unavailable (HTTP 503), with the reason in the message.
  const int primary = rc & 0xff;
  const int sys = (primary == SQLITE_IOERR || primary == SQLITE_FULL || primary == SQLITE_CANTOPEN)
                      ? sqlite3_system_errno(db_)
                      : 0;
  if (primary == SQLITE_FULL || sys == ENOSPC || sys == EFBIG || sys == EDQUOT || rc == SQLITE_IOERR_WRITE) {
    return Status::Unavailable(msg + " (" + WriteFailureCause(db_, sys) + "; the transaction was not committed)");
  }
  if (sys == EROFS || sys == EACCES || sys == EPERM) {
    return Status::Unavailable(msg + " (the database or its directory is read-only for this user: " +
                               std::strerror(sys) + ")");
  }
  switch (primary) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return Status::Unavailable(msg + " (the database is locked by another writer)");
    case SQLITE_READONLY:
      return Status::Unavailable(msg + " (the database or its directory is read-only for this user)");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return Status::Corruption(msg);
    default: return Status::IoError(msg);
  }
}

Status Connection::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    sqlite3_free(err);
    return Error("sql");
  }
  return Status::Ok();
}

Result<Statement> Connection::Prepare(std::string_view sql) {
  if (auto it = idle_.find(sql); it != idle_.end()) {
    sqlite3_stmt* stmt = it->second;
    idle_.erase(it);
    return Statement(stmt, this);
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt, nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  return Statement(stmt, this);
}

int64_t Connection::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }
int Connection::Changes() const { return sqlite3_changes(db_); }

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    if (stmt_ != nullptr) conn_->Recycle(stmt_);
    stmt_ = o.stmt_;
    conn_ = o.conn_;
    o.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_ != nullptr) conn_->Recycle(stmt_);
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}
Statement& Statement::Bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindBlob(int index, const void* data, size_t size) {
  sqlite3_bind_blob(stmt_, index, data, static_cast<int>(size), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return conn_->Error("step");
}

Status Statement::Run() {
  while (true) {
    auto r = Step();
    if (!r.ok()) {
      sqlite3_reset(stmt_);
      return r.status();
    }
    if (!*r) break;
  }
  return Reset();
}

Status Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  return Status::Ok();
}

int64_t Statement::Int(int col) const { return sqlite3_column_int64(stmt_, col); }
std::string Statement::Text(int col) const {
  const unsigned char* t = sqlite3_column_text(stmt_, col);
  return t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(stmt_, col)) : "";
}
std::string Statement::Blob(int col) const {
  const void* b = sqlite3_column_blob(stmt_, col);
  return b ? std::string(static_cast<const char*>(b), sqlite3_column_bytes(stmt_, col)) : "";
}
bool Statement::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

Result<std::unique_ptr<Transaction>> Transaction::Begin(Connection& conn) {
  GW_RETURN_IF_ERROR(conn.Exec("BEGIN IMMEDIATE"));
  return std::unique_ptr<Transaction>(new Transaction(conn));
}

Transaction::~Transaction() {
  if (!done_) (void)conn_.Exec("ROLLBACK");
}

Status Transaction::Commit() {
  GW_RETURN_IF_ERROR(conn_.Exec("COMMIT"));
  done_ = true;
  return Status::Ok();
}

}  // namespace gw::sql
