// The audit chain and the trust tables (ministry keys, nonces, consumer
// revocation) of Store; see store.h.
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <optional>
#include <ctime>
#include <nlohmann/json.hpp>

#include "gateway/crypto/digest.h"
#include "gateway/storage/store.h"

namespace gw {
std::string AuditHash(const std::string& prev_hash, int64_t seq, const std::string& ts,
                      const std::string& kind, const std::string& actor, const std::string& detail) {
  Sha256 h;
  h.Update(prev_hash);
  unsigned char le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<unsigned char>(static_cast<uint64_t>(seq) >> (8 * i));
  h.Update(std::string_view(reinterpret_cast<const char*>(le), 8));
  // Fields are length-prefixed so that no two entries share a byte string.
  for (const std::string* f : {&ts, &kind, &actor, &detail}) {
    uint32_t n = static_cast<uint32_t>(f->size());
    unsigned char len[4] = {static_cast<unsigned char>(n), static_cast<unsigned char>(n >> 8),
                            static_cast<unsigned char>(n >> 16), static_cast<unsigned char>(n >> 24)};
    h.Update(std::string_view(reinterpret_cast<const char*>(len), 4));
    h.Update(*f);
  }
  return h.Final();
}

namespace {
// The last entry's sequence number and hash, or (0, zeros) for an empty log.
Status ReadChainHead(sql::Connection& conn, int64_t* seq, std::string* hash) {
  GW_ASSIGN_OR_RETURN(auto last, conn.Prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"));
  GW_ASSIGN_OR_RETURN(bool has, last.Step());
  *seq = has ? last.Int(0) : 0;
  *hash = has ? last.Blob(1) : std::string(32, '\0');
  return Status::Ok();
}

// Appends the entry after (*seq, *hash) and advances them to it.
Status AppendAfter(sql::Connection& conn, int64_t* seq, std::string* hash, const std::string& kind,
                   const std::string& actor, const std::string& detail_json) {
  const int64_t next = *seq + 1;
  std::string ts = UtcNowIso();
  std::string next_hash = AuditHash(*hash, next, ts, kind, actor, detail_json);
  GW_ASSIGN_OR_RETURN(auto ins, conn.Prepare(
      "INSERT INTO audit(seq, ts, kind, actor, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  ins.Bind(1, next).Bind(2, ts).Bind(3, kind).Bind(4, actor).Bind(5, detail_json);
  ins.BindBlob(6, hash->data(), hash->size()).BindBlob(7, next_hash.data(), next_hash.size());
  GW_RETURN_IF_ERROR(ins.Run());
  *seq = next;
  *hash = std::move(next_hash);
  return Status::Ok();
}
}  // namespace

Status AppendAuditTx(sql::Connection& conn, const std::string& kind, const std::string& actor,
                     const std::string& detail_json) {
  int64_t seq = 0;
  std::string hash;
  GW_RETURN_IF_ERROR(ReadChainHead(conn, &seq, &hash));
  return AppendAfter(conn, &seq, &hash, kind, actor, detail_json);
}

// How long the audit thread waits for more entries before a commit; see
// RunAuditThread.
constexpr std::chrono::microseconds kAuditGatherWindow{100};
constexpr size_t kAuditMaxGather = 64;

// Group commit on a thread of its own: whatever arrived while a batch was
// being committed goes into the next transaction, so concurrent releases share
// one fsync, and a server thread that hands over an entry (AppendAuditAsync)
// goes on serving instead of waiting for the disk.
void Store::AppendAuditAsync(std::string kind, std::string actor, std::string detail_json,
                             std::function<void(Status)> on_durable) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(audit_mu_);
    if (!audit_thread_.joinable()) audit_thread_ = std::thread([this] { RunAuditThread(); });
    audit_queue_.push_back(PendingAudit{std::move(kind), std::move(actor), std::move(detail_json),
                                        std::move(on_durable), std::chrono::steady_clock::now()});
    // Wake the thread only when what it waits for has happened.
    const size_t queued = audit_queue_.size();
    wake = queued == 1 || (audit_gather_target_ > 0 && queued >= audit_gather_target_);
  }
  if (wake) audit_wakeup_.notify_one();
}

Status Store::AppendAudit(const std::string& kind, const std::string& actor,
                          const std::string& detail_json) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Status> result;
  AppendAuditAsync(kind, actor, detail_json, [&](Status s) {
    std::lock_guard<std::mutex> lock(mu);
    result = std::move(s);
    cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return result.has_value(); });
  return *result;
}

void Store::RunAuditThread() {
  // Signals are for the thread that waits for them (gateway serve blocks them
  // in every thread but takes them with sigwait): this thread may start before
  // that mask is set, and a SIGTERM delivered here would end the process
  // without its orderly shutdown.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  pthread_setname_np(pthread_self(), "gw-audit");  // for top -H and perf
  std::vector<PendingAudit> batch;
  size_t last_batch = 0;
  std::unique_lock<std::mutex> lock(audit_mu_);
  for (;;) {
    audit_wakeup_.wait(lock, [this] { return audit_stop_ || !audit_queue_.empty(); });
    if (audit_queue_.empty()) return;  // stopping, and nothing left to write
    // While releases arrive together (the last batch had several), wait a
    // moment for as many as last time: every commit costs an fsync and CPU
    // that the releases themselves need. A lone release never waits.
    const size_t target = std::min<size_t>(last_batch, kAuditMaxGather);
    if (last_batch > 1 && audit_queue_.size() < target && !audit_stop_) {
      audit_gather_target_ = target;
      audit_wakeup_.wait_for(lock, kAuditGatherWindow,
                             [&] { return audit_stop_ || audit_queue_.size() >= target; });
      audit_gather_target_ = 0;
    }
    last_batch = audit_queue_.size();
    batch.clear();
    batch.swap(audit_queue_);
    lock.unlock();
    const auto began = std::chrono::steady_clock::now();
    Status written = WriteAuditBatch(batch);
    CountAuditBatch(batch, began, written.ok());
    for (PendingAudit& p : batch) {
      if (p.on_durable) p.on_durable(written);
    }
    batch.clear();  // the callbacks' captures go before the next wait
    lock.lock();
  }
}

void Store::CountAuditBatch(const std::vector<PendingAudit>& batch,
                            std::chrono::steady_clock::time_point began, bool committed) {
  using std::chrono::duration_cast;
  using std::chrono::microseconds;
  const auto done = std::chrono::steady_clock::now();
  if (!committed) {
    audit_failed_commits_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  int64_t waited = 0;
  for (const PendingAudit& p : batch)
    waited += duration_cast<microseconds>(done - p.handed_over).count();
  audit_commit_micros_.fetch_add(duration_cast<microseconds>(done - began).count(),
                                 std::memory_order_relaxed);
  audit_wait_micros_.fetch_add(waited, std::memory_order_relaxed);
  audit_entries_.fetch_add(batch.size(), std::memory_order_relaxed);
  audit_commits_.fetch_add(1, std::memory_order_relaxed);
}

Store::AuditStats Store::audit_stats() const {
  AuditStats s;
  s.commits = audit_commits_.load(std::memory_order_relaxed);
  s.failed_commits = audit_failed_commits_.load(std::memory_order_relaxed);
  s.entries = audit_entries_.load(std::memory_order_relaxed);
  s.commit_micros = audit_commit_micros_.load(std::memory_order_relaxed);
  s.wait_micros = audit_wait_micros_.load(std::memory_order_relaxed);
  return s;
}

Status Store::WriteAuditBatch(const std::vector<PendingAudit>& batch) {
  std::lock_guard<std::mutex> lock(writer_mu_);
  GW_ASSIGN_OR_RETURN(auto tx, sql::Transaction::Begin(*writer_));
  // The chain head is read once: the write lock (BEGIN IMMEDIATE) keeps every
  // other writer, in any process, out until the commit.
  int64_t seq = 0;
  std::string hash;
  GW_RETURN_IF_ERROR(ReadChainHead(*writer_, &seq, &hash));
  for (const PendingAudit& p : batch) {
    GW_RETURN_IF_ERROR(AppendAfter(*writer_, &seq, &hash, p.kind, p.actor, p.detail));
  }
  return tx->Commit();
}

Result<std::vector<AuditEntry>> Store::ListAudit(int64_t after_seq, int64_t limit) {
  return WithReader([&](sql::Connection& c) -> Result<std::vector<AuditEntry>> {
    GW_ASSIGN_OR_RETURN(auto st, c.Prepare(
        "SELECT seq, ts, kind, actor, detail, prev_hash, hash FROM audit WHERE seq > ? "
        "ORDER BY seq LIMIT ?"));
    st.Bind(1, after_seq).Bind(2, limit);
    std::vector<AuditEntry> out;
    while (true) {
      GW_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      out.push_back(AuditEntry{st.Int(0), st.Text(1), st.Text(2), st.Text(3), st.Text(4),
                               st.Blob(5), st.Blob(6)});
    }
    return out;
  });
}

Result<AuditVerification> Store::VerifyAudit() {
  return WithReader([&](sql::Connection& c) -> Result<AuditVerification> {
    GW_ASSIGN_OR_RETURN(auto st, c.Prepare(
        "SELECT seq, ts, kind, actor, detail, prev_hash, hash FROM audit ORDER BY seq"));
    AuditVerification v;
    std::string prev(32, '\0');
    int64_t expected_seq = 1;
    while (true) {
      GW_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      int64_t seq = st.Int(0);
      auto fail = [&](const std::string& problem) {
        v.ok = false;
        v.first_broken_seq = seq;
        v.problem = problem;
        return v;
      };
      if (seq != expected_seq) {
        seq = expected_seq;  // name the missing entry
        return fail("entry " + std::to_string(expected_seq) + " is missing (next is " +
                    std::to_string(seq) + ")");
      }
      if (st.Blob(5) != prev) return fail("its previous-hash does not match the entry before it");
      std::string hash = AuditHash(prev, seq, st.Text(1), st.Text(2), st.Text(3), st.Text(4));
      if (st.Blob(6) != hash) return fail("its content does not match its hash (altered)");
      prev = hash;
      ++expected_seq;
      ++v.entries;
    }
    return v;
  });
}

Status Store::RevokeConsumer(const std::string& name, const std::string& actor) {
  std::lock_guard<std::mutex> lock(writer_mu_);
  GW_ASSIGN_OR_RETURN(auto tx, sql::Transaction::Begin(*writer_));
  GW_ASSIGN_OR_RETURN(auto del, writer_->Prepare("DELETE FROM consumers WHERE name = ?"));
  del.Bind(1, name);
  GW_RETURN_IF_ERROR(del.Run());
  if (writer_->Changes() == 0) return Status::NotFound("no consumer named \"" + name + "\"");
  GW_RETURN_IF_ERROR(AppendAuditTx(*writer_, "consumer.revoke", actor,
                                   nlohmann::json{{"consumer", name}}.dump()));
  GW_RETURN_IF_ERROR(tx->Commit());
  stamp_.Bump();  // the token stops working at once, here and in a running server
  return Status::Ok();
}

Status Store::AddMinistryKey(const MinistryKey& key, const std::string& actor) {
  std::lock_guard<std::mutex> lock(writer_mu_);
  GW_ASSIGN_OR_RETURN(auto tx, sql::Transaction::Begin(*writer_));
  GW_ASSIGN_OR_RETURN(auto ins, writer_->Prepare(
      "INSERT INTO ministry_keys(keyid, country, public_key, added_at) VALUES (?, ?, ?, ?)"));
  ins.Bind(1, key.keyid).Bind(2, key.country).BindBlob(3, key.public_key.data(), key.public_key.size());
  ins.Bind(4, UtcNowIso());
  Status s = ins.Run();
  if (!s.ok()) {
    if (s.message().find("UNIQUE") != std::string::npos) {
      return Status::Conflict("key " + key.keyid + " is already registered");
    }
    return s;
  }
  GW_RETURN_IF_ERROR(AppendAuditTx(*writer_, "key.add", actor,
                                   nlohmann::json{{"country", key.country}, {"keyid", key.keyid}}.dump()));
  return tx->Commit();
}

Status Store::RevokeMinistryKey(const std::string& country, const std::string& keyid,
                                const std::string& actor) {
  std::lock_guard<std::mutex> lock(writer_mu_);
  GW_ASSIGN_OR_RETURN(auto tx, sql::Transaction::Begin(*writer_));
  GW_ASSIGN_OR_RETURN(auto del, writer_->Prepare("DELETE FROM ministry_keys WHERE country = ? AND keyid = ?"));
  del.Bind(1, country).Bind(2, keyid);
  GW_RETURN_IF_ERROR(del.Run());
  if (writer_->Changes() == 0) {
    return Status::NotFound("no key " + keyid + " is registered for " + country);
  }
  GW_RETURN_IF_ERROR(AppendAuditTx(*writer_, "key.revoke", actor,
                                   nlohmann::json{{"country", country}, {"keyid", keyid}}.dump()));
  return tx->Commit();
}

Result<std::optional<MinistryKey>> Store::FindMinistryKey(const std::string& keyid) {
  return WithReader([&](sql::Connection& c) -> Result<std::optional<MinistryKey>> {
    GW_ASSIGN_OR_RETURN(auto st, c.Prepare(
        "SELECT keyid, country, public_key, added_at FROM ministry_keys WHERE keyid = ?"));
    st.Bind(1, keyid);
    GW_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return std::optional<MinistryKey>();
    return std::optional<MinistryKey>(MinistryKey{st.Text(0), st.Text(1), st.Blob(2), st.Text(3)});
  });
}

Result<std::vector<MinistryKey>> Store::ListMinistryKeys() {
  return WithReader([&](sql::Connection& c) -> Result<std::vector<MinistryKey>> {
    GW_ASSIGN_OR_RETURN(auto st, c.Prepare(
        "SELECT keyid, country, public_key, added_at FROM ministry_keys ORDER BY country, added_at"));
    std::vector<MinistryKey> out;
    while (true) {
      GW_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      out.push_back(MinistryKey{st.Text(0), st.Text(1), st.Blob(2), st.Text(3)});
    }
    return out;
  });
}

Result<bool> Store::UseNonce(const std::string& keyid, const std::string& nonce, int64_t created,
                             int64_t forget_before) {
  std::lock_guard<std::mutex> lock(writer_mu_);
  GW_ASSIGN_OR_RETURN(auto tx, sql::Transaction::Begin(*writer_));
  GW_ASSIGN_OR_RETURN(auto prune, writer_->Prepare("DELETE FROM nonces WHERE created < ?"));
  prune.Bind(1, forget_before);
  GW_RETURN_IF_ERROR(prune.Run());
  GW_ASSIGN_OR_RETURN(auto ins, writer_->Prepare(
      "INSERT INTO nonces(keyid, nonce, created) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"));
  ins.Bind(1, keyid).Bind(2, nonce).Bind(3, created);
  GW_RETURN_IF_ERROR(ins.Run());
  bool fresh = writer_->Changes() == 1;
  GW_RETURN_IF_ERROR(tx->Commit());
  return fresh;
}

}  // namespace gw
