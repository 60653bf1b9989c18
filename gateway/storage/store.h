// Store: the gateway's SQLite database (WAL, prepared statements only, schema
// migrations through PRAGMA user_version).
//
// It holds snapshots (country, reference date, version, digest, receipt, which
// version is current), pseudonymised persons, the counts per cell computed once
// at commit (queries read only these), and consumers with hashed tokens. It
// never stores names, national IDs or exact birth dates: nothing in its API
// accepts them.
//
// Snapshots are written through a SnapshotWriter, which holds one write
// transaction from the first row to the commit: a snapshot becomes visible
// all at once, with the new version made current in the same transaction, or
// not at all (a crash or an abort rolls it back).
//
// Thread-safety: Store is thread-safe. Reads use a pool of connections, one
// per concurrent caller; writes are serialised by SQLite's write lock (BEGIN
// IMMEDIATE), which also orders writers in other processes.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gateway/common/status.h"
#include "gateway/crypto/keys.h"
#include "gateway/schema/dimensions.h"
#include "gateway/schema/records.h"
#include "gateway/storage/change_stamp.h"
#include "gateway/storage/sqlite.h"

namespace gw {

struct SnapshotInfo {
  int64_t id = 0;
  std::string country;
  std::string ref_date;  // YYYY-MM-DD
  int64_t version = 0;
  std::string profile;
  std::string digest;
  std::string created_at;  // UTC, ISO 8601
  bool current = false;
  int64_t rows = 0, accepted = 0, expired = 0, in_stock = 0, rejected = 0;
  std::string receipt_json;
};

// What is stored of one person.
struct StoredPerson {
  std::string pop_type, coo, sex, age, region;
  std::string reg_month;    // YYYY-MM
  std::string valid_until;  // YYYY-MM-DD or empty
  bool in_stock = false;
};

// Counts keyed by (pop_type, coo, sex, age, region).
using CellKey = std::array<std::string, 5>;

struct SnapshotTotals {
  int64_t rows = 0, accepted = 0, expired = 0, in_stock = 0, rejected = 0;
};

class SnapshotWriter {
 public:
  virtual ~SnapshotWriter() = default;  // aborts unless committed
  virtual int64_t version() const = 0;
  // Buffers a person; `row` is its row in the input, for duplicate reports.
  virtual Status AddPerson(const PersonKey& key, const StoredPerson& person, uint64_t row) = 0;
  struct Duplicate {
    uint64_t row = 0;  // a later row with a key an earlier row already has
    bool in_stock = false;
  };
  // Sorts the buffered persons by key and reports every duplicate (the earliest
  // row of a key is kept). With `store`, also inserts the others in key order
  // and counts those in stock into the cells. Call once, after the last
  // AddPerson and before Commit.
  virtual Result<std::vector<Duplicate>> ResolvePersons(bool store) = 0;
  // Adds to the count of a cell (a pre-tabulated count).
  virtual void AddCount(const CellKey& cell, int64_t count) = 0;
  // Writes the counts, the receipt and makes this version current, atomically.
  // The audit entry ("snapshot.commit", by `actor`) is part of the same transaction.
  virtual Status Commit(const std::string& digest, const SnapshotTotals& totals,
                        const std::string& receipt_json, const std::string& actor) = 0;
};

// One row of an aggregate read: the values of the requested dimensions (in
// the order asked) and the summed count.
struct CountRow {
  std::vector<std::string> values;
  int64_t count = 0;
};

struct AuditEntry {
  int64_t seq = 0;
  std::string ts;      // UTC, ISO 8601
  std::string kind;    // e.g. "snapshot.commit", "consumer.add", "aggregate.release"
  std::string actor;   // who caused it: a consumer name, "ministry:KAZ/<keyid>", "cli", ...
  std::string detail;  // JSON object; never an identifying value
  std::string prev_hash, hash;  // 32 raw bytes each
};

struct AuditVerification {
  bool ok = true;
  int64_t entries = 0;
  int64_t first_broken_seq = 0;  // when !ok
  std::string problem;           // when !ok
};

struct MinistryKey {
  std::string keyid;       // 16 lower-case hex digits of SHA-256(public key)
  std::string country;
  std::string public_key;  // 32 raw bytes
  std::string added_at;
};

// One country's part of a release under dp: the tables it contains (each a
// sorted list of broken-down dimensions, e.g. "coo,sex") and their price.
struct BudgetCharge {
  std::string country;
  std::string ref_date;
  int64_t version = 0;
  std::vector<std::string> table_keys;
  int64_t epsilon_micro = 0;     // cost of each table not yet released to this consumer
  int64_t budget_micro = 0;      // the consumer's budget for (country, ref_date)
  int64_t global_cap_micro = 0;  // all consumers together for (country, ref_date); 0: no cap
};

struct ChargeOutcome {
  bool granted = false;
  int64_t new_tables = 0;
  int64_t cost_micro = 0;          // debited (granted) or that would have been (refused)
  int64_t spent_before_micro = 0;  // this consumer, (country, ref_date), all versions
  int64_t remaining_micro = 0;     // after the debit, or now when refused
  bool global_cap_reached = false;
  int64_t global_spent_micro = 0;  // all consumers, before this debit
};

struct BudgetUse {
  std::string consumer, country, ref_date;
  int64_t spent_micro = 0;
  int64_t tables = 0;  // (version, table) pairs released
};

struct ConsumerInfo {
  std::string name;
  std::string role;  // "consumer" or "operator"
};

// Appends an audit entry inside the caller's open write transaction.
Status AppendAuditTx(sql::Connection& conn, const std::string& kind, const std::string& actor,
                     const std::string& detail_json);
// The canonical bytes an audit entry's hash covers.
std::string AuditHash(const std::string& prev_hash, int64_t seq, const std::string& ts,
                      const std::string& kind, const std::string& actor, const std::string& detail);

class Store {
 public:
  // Opens (creating if `create`) the database and brings its schema up to date.
  // `busy_timeout`: how long a write waits for another writer (a CLI ingest
  // beside the server) before it fails as unavailable; every connection of
  // the store uses it.
  static Result<std::unique_ptr<Store>> Open(
      const std::string& path, bool create,
      std::chrono::milliseconds busy_timeout = sql::Connection::kDefaultBusyTimeout);
  ~Store();

  // Starts a new uncommitted snapshot for (country, ref_date); blocks other writers until done.
  Result<std::unique_ptr<SnapshotWriter>> BeginSnapshot(const std::string& country,
                                                        const std::string& ref_date,
                                                        const std::string& profile);

  Result<std::optional<SnapshotInfo>> CurrentSnapshot(const std::string& country,
                                                      const std::string& ref_date);
  // Current snapshots of every country for one reference date, by country,
  // without their receipts (receipt_json empty; CurrentSnapshot has it).
  Result<std::vector<SnapshotInfo>> CurrentSnapshots(const std::string& ref_date);
  // All versions, newest reference date first; `country` empty: all countries.
  Result<std::vector<SnapshotInfo>> ListSnapshots(const std::string& country);

  // Sums the counts of one snapshot grouped by `dims` (never Dim::kCoa), keeping
  // only cells whose value for each filtered dimension is in its list.
  Result<std::vector<CountRow>> ReadCounts(
      int64_t snapshot_id, const std::vector<Dim>& dims,
      const std::array<std::vector<std::string>, kDimCount>& filters);

  Status AddConsumer(const std::string& name, const std::string& role,
                     const std::string& token_hash, const std::string& actor = "cli");
  Result<std::optional<ConsumerInfo>> FindConsumerByTokenHash(const std::string& token_hash);
  Result<std::vector<ConsumerInfo>> ListConsumers();

  // Removes a consumer (its token stops working at once). NotFound if unknown.
  Status RevokeConsumer(const std::string& name, const std::string& actor);

  // Audit chain: each entry's hash covers the previous entry's hash and its own
  // fields, so altering, removing or reordering entries breaks the chain.
  // Entries are written in batches by one audit thread (started on first use):
  // entries that arrive while a batch is being committed share the next
  // commit, and so its fsync.
  //
  // AppendAudit returns once the entry is durable (or failed to be).
  // AppendAuditAsync returns at once and calls `on_durable` exactly once, on
  // the audit thread, after the entry's batch committed or failed; it must be
  // quick and must not call back into the Store's audit log. Pending entries
  // are still written when the Store is destroyed.
  Status AppendAudit(const std::string& kind, const std::string& actor, const std::string& detail_json);
  void AppendAuditAsync(std::string kind, std::string actor, std::string detail_json,
                        std::function<void(Status)> on_durable);
  Result<std::vector<AuditEntry>> ListAudit(int64_t after_seq, int64_t limit);
  Result<AuditVerification> VerifyAudit();

  // What the audit thread has done since this Store was opened, for
  // /metrics: every release waits for its entry's commit, so these say how
  // much of an answer's latency the audit log takes. Monotonic; read without
  // a lock (each field is exact, the fields together may be a moment apart).
  struct AuditStats {
    uint64_t commits = 0;         // batches committed
    uint64_t failed_commits = 0;  // batches whose commit failed (their entries were refused)
    uint64_t entries = 0;         // entries in committed batches
    int64_t commit_micros = 0;    // time spent writing and committing batches
    int64_t wait_micros = 0;      // per entry: from its hand-over until its batch was durable
  };
  AuditStats audit_stats() const;

  // Ministry keys (several per country may be active, for rotation).
  Status AddMinistryKey(const MinistryKey& key, const std::string& actor);
  Status RevokeMinistryKey(const std::string& country, const std::string& keyid, const std::string& actor);
  Result<std::optional<MinistryKey>> FindMinistryKey(const std::string& keyid);
  Result<std::vector<MinistryKey>> ListMinistryKeys();

  // Records a signature nonce; false if (keyid, nonce) was already used.
  // Entries older than `forget_before` (unix seconds) are pruned: a replay that
  // old fails the `created` window check anyway.
  Result<bool> UseNonce(const std::string& keyid, const std::string& nonce, int64_t created,
                        int64_t forget_before);

  // Debits every charge that fits its budgets, in one write transaction that
  // commits before this returns, so a number can leave only after its cost is
  // durable; concurrent callers are serialised and can never overspend. Each
  // charge is decided on its own (a refused one debits nothing), unless
  // `all_or_nothing`: then one refusal debits nothing at all.
  Result<std::vector<ChargeOutcome>> ChargeBudget(const std::string& consumer,
                                                  const std::vector<BudgetCharge>& charges,
                                                  bool all_or_nothing = false);
  // Budget used per consumer, country and reference date (`consumer` empty: all).
  Result<std::vector<BudgetUse>> ListBudgetUse(const std::string& consumer);
  // True if the ledger has any entry (the noise key must then never change).
  Result<bool> HasBudgetEntries();

  // PRAGMA quick_check on a read connection; used at start-up.
  Status CheckIntegrity();

  // The shared change stamp (see change_stamp.h): read it before reading what
  // a cache keeps, and keep the value with it.
  uint64_t ChangeStampValue() const { return stamp_.Load(); }

  // The database file (its directory also holds temporary files of ingests).
  const std::string& path() const { return path_; }

 private:
  Store(std::string path, std::chrono::milliseconds busy_timeout)
      : path_(std::move(path)), busy_timeout_(busy_timeout) {}
  class Reader;
  Result<std::unique_ptr<sql::Connection>> AcquireReader();
  void ReleaseReader(std::unique_ptr<sql::Connection> conn);
  template <typename Fn>
  auto WithReader(Fn&& fn) -> decltype(fn(std::declval<sql::Connection&>()));

  struct PendingAudit {
    std::string kind, actor, detail;
    std::function<void(Status)> on_durable;
    std::chrono::steady_clock::time_point handed_over;
  };
  Status WriteAuditBatch(const std::vector<PendingAudit>& batch);
  void CountAuditBatch(const std::vector<PendingAudit>& batch,
                       std::chrono::steady_clock::time_point began, bool committed);
  void RunAuditThread();

  std::string path_;
  std::chrono::milliseconds busy_timeout_;
  // What the query path asks on every request, answered from memory while
  // nothing it depends on changed (see change_stamp.h).
  ChangeStamp stamp_;
  StampedCache<ConsumerInfo> consumers_by_token_{4096, std::chrono::seconds(1)};
  StampedCache<std::vector<SnapshotInfo>> current_by_date_{256, std::chrono::seconds(1)};
  StampedCache<std::vector<ChargeOutcome>> repeat_charges_{4096, std::chrono::seconds(1)};
  std::mutex audit_mu_;
  std::condition_variable audit_wakeup_;    // with audit_mu_: queue not empty, or stop
  std::vector<PendingAudit> audit_queue_;   // guarded by audit_mu_
  bool audit_stop_ = false;                 // guarded by audit_mu_
  size_t audit_gather_target_ = 0;          // guarded by audit_mu_; 0: not gathering
  std::thread audit_thread_;                // started under audit_mu_; joined by ~Store
  // AuditStats, written by the audit thread only.
  std::atomic<uint64_t> audit_commits_{0}, audit_failed_commits_{0}, audit_entries_{0};
  std::atomic<int64_t> audit_commit_micros_{0}, audit_wait_micros_{0};
  std::mutex mu_;
  std::vector<std::unique_ptr<sql::Connection>> idle_readers_;  // guarded by mu_
  std::unique_ptr<sql::Connection> writer_;                     // guarded by writer_mu_
  std::mutex writer_mu_;
  friend class SqliteSnapshotWriter;
  friend Status AppendAuditTx(sql::Connection& conn, const std::string& kind,
                              const std::string& actor, const std::string& detail_json);
};

// Runs `fn` with a pooled read connection.
template <typename Fn>
auto Store::WithReader(Fn&& fn) -> decltype(fn(std::declval<sql::Connection&>())) {
  auto conn = AcquireReader();
  if (!conn.ok()) return conn.status();
  auto result = fn(**conn);
  ReleaseReader(std::move(conn).value());
  return result;
}


}  // namespace gw
