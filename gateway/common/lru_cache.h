// LruCache: a least-recently-used cache of immutable values shared by
// shared_ptr, bounded by the total of the costs given with them (cells, bytes),
// so memory stays bounded whatever the sizes of the values.
//
// A value handed out stays valid for as long as its holder keeps it, even after
// the cache has evicted it.
//
// Thread-safety: thread-safe (one mutex; Get and Put are short).
#pragma once

#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace gw {

template <typename T>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : capacity_(capacity) {}
  LruCache(const LruCache&) = delete;
  LruCache& operator=(const LruCache&) = delete;

  std::shared_ptr<const T> Get(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second.position);
    return it->second.value;
  }

  // Keeps the first value put under a key; a value costing more than the whole
  // capacity is not kept.
  void Put(const std::string& key, std::shared_ptr<const T> value, size_t cost) {
    std::lock_guard<std::mutex> lock(mu_);
    if (map_.count(key) != 0 || cost > capacity_) return;
    order_.push_front(key);
    map_[key] = Entry{std::move(value), cost, order_.begin()};
    used_ += cost;
    while (used_ > capacity_) {
      auto victim = map_.find(order_.back());
      used_ -= victim->second.cost;
      map_.erase(victim);
      order_.pop_back();
    }
  }

 private:
  struct Entry {
    std::shared_ptr<const T> value;
    size_t cost = 0;
    std::list<std::string>::iterator position;
  };
  const size_t capacity_;
  std::mutex mu_;
  std::list<std::string> order_;      // most recent first; guarded by mu_
  std::map<std::string, Entry> map_;  // guarded by mu_
  size_t used_ = 0;                   // guarded by mu_
};

}  // namespace gw
