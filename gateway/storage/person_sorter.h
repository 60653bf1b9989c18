// PersonSorter: buffers a snapshot's persons in a compact fixed-size form and
// hands them back sorted by person key (then by input row), with bounded
// memory: when the buffer is full it is sorted and spilled to a temporary file
// as a run, and the runs are merged at the end.
//
// Why: person keys are keyed hashes, so in input order they land all over the
// persons B-tree; inserted in key order, every insert goes to the page the
// previous one touched. Sorting also puts repeated keys next to each other,
// which is how duplicates are found without an index of all keys in memory.
//
// Thread-safety: none; one writer uses it.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/common/status.h"
#include "gateway/crypto/keys.h"

namespace gw {

// One person as stored, in fixed-size fields (codes are short; see Pack).
struct PackedPerson {
  PersonKey key{};
  uint64_t row = 0;
  char pop_type[4]{}, coo[4]{}, sex[4]{}, age[8]{}, region[8]{}, reg_month[8]{}, valid_until[12]{};
  uint8_t in_stock = 0;

  static std::string_view Field(const char* f, size_t n) { return std::string_view(f, strnlen(f, n)); }
};

class PersonSorter {
 public:
  // `run_bytes`: memory for one run; `temp_dir`: where runs are spilled.
  PersonSorter(size_t run_bytes, std::string temp_dir);
  ~PersonSorter();
  PersonSorter(const PersonSorter&) = delete;
  PersonSorter& operator=(const PersonSorter&) = delete;

  Status Add(const PackedPerson& p);
  size_t size() const { return count_; }
  // Calls `visit` for every person in (key, row) order. Once.
  Status Drain(const std::function<Status(const PackedPerson&)>& visit);

 private:
  Status Spill();
  size_t capacity_;
  std::string temp_dir_;
  std::vector<PackedPerson> buffer_;
  std::vector<std::FILE*> runs_;
  size_t count_ = 0;
};

}  // namespace gw
