// ChangeStamp: a counter shared by every process that opens the same database,
// moved after each commit that changes what the query path caches (consumers,
// current snapshots, the budget ledger), so that a server can answer repeats
// from memory and still see a revocation or a new snapshot made by a CLI
// command in another process at once.
//
// The counter lives in a small file beside the database ("<db>-stamp"), mapped
// shared into each process and updated with atomic instructions: reading it is
// a memory load, no system call and no SQLite transaction. The audit log does
// not move it, so a server under query load keeps its caches.
//
// A commit moves the stamp only after it is durable, and a process can die in
// between; StampedCache therefore also bounds the age of what it keeps (see
// below). If the file cannot be created or mapped (read-only directory),
// Load() returns a new value each time, which turns every cache off.
//
// Thread-safety: thread-safe, and safe across processes.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace gw {

class ChangeStamp {
 public:
  ChangeStamp() = default;
  ~ChangeStamp();
  ChangeStamp(const ChangeStamp&) = delete;
  ChangeStamp& operator=(const ChangeStamp&) = delete;

  // Maps "<database_path>-stamp", creating it if needed. False if it could not
  // (the stamp then disables caching rather than failing the Store).
  bool Open(const std::string& database_path);
  // The current value. Read it before reading the database for a cache.
  uint64_t Load() const;
  // After a commit that changes cached state.
  void Bump();

 private:
  uint64_t* shared_ = nullptr;  // in the mapping
};

// A small map of values read from the database, each kept with the stamp read
// before it was loaded. A value is served only while the stamp is unchanged
// and for at most `max_age` (the bound on staleness should a writer die
// between its commit and its Bump). Bounded to `max_entries` (cleared when
// full: the keys are few in practice, tokens and reference dates).
//
// Thread-safety: thread-safe (one mutex; lookups are short).
template <typename V>
class StampedCache {
 public:
  StampedCache(size_t max_entries, std::chrono::milliseconds max_age)
      : max_entries_(max_entries), max_age_(max_age) {}

  std::shared_ptr<const V> Get(const std::string& key, uint64_t stamp) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    if (it->second.stamp != stamp || Clock::now() - it->second.loaded > max_age_) {
      map_.erase(it);
      return nullptr;
    }
    return it->second.value;
  }

  void Put(const std::string& key, uint64_t stamp_before_read, std::shared_ptr<const V> value) {
    std::lock_guard<std::mutex> lock(mu_);
    if (map_.size() >= max_entries_) map_.clear();
    map_[key] = Entry{stamp_before_read, Clock::now(), std::move(value)};
  }

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    uint64_t stamp;
    Clock::time_point loaded;
    std::shared_ptr<const V> value;
  };
  const size_t max_entries_;
  const std::chrono::milliseconds max_age_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> map_;  // guarded by mu_
};

}  // namespace gw
