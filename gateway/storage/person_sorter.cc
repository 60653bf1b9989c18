#include "gateway/storage/person_sorter.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <queue>
#include <unistd.h>

namespace gw {
namespace {

bool Before(const PackedPerson& a, const PackedPerson& b) {
  int c = std::memcmp(a.key.data(), b.key.data(), a.key.size());
  return c < 0 || (c == 0 && a.row < b.row);
}

// A spill file that disappears when closed (unlinked right after creation).
Result<std::FILE*> TempFile(const std::string& dir) {
  std::string pattern = dir + "/.gateway-sort-XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  int fd = mkstemp(name.data());
  if (fd < 0) return Status::IoError("cannot create a temporary file in " + dir + ": " + std::strerror(errno));
  unlink(name.data());
  std::FILE* f = fdopen(fd, "w+b");
  if (f == nullptr) {
    close(fd);
    return Status::IoError("cannot open a temporary file in " + dir);
  }
  return f;
}

}  // namespace

PersonSorter::PersonSorter(size_t run_bytes, std::string temp_dir)
    : capacity_(std::max<size_t>(1, run_bytes / sizeof(PackedPerson))), temp_dir_(std::move(temp_dir)) {}

PersonSorter::~PersonSorter() {
  for (std::FILE* f : runs_) std::fclose(f);
}

Status PersonSorter::Add(const PackedPerson& p) {
  // Reserved whole at once: growing by doubling would copy the run repeatedly
  // (the pages are only touched as they fill).
  if (buffer_.capacity() == 0) buffer_.reserve(capacity_);
  buffer_.push_back(p);
  ++count_;
  if (buffer_.size() >= capacity_) return Spill();
  return Status::Ok();
}

Status PersonSorter::Spill() {
  std::sort(buffer_.begin(), buffer_.end(), Before);
  GW_ASSIGN_OR_RETURN(std::FILE * f, TempFile(temp_dir_));
  runs_.push_back(f);
  if (std::fwrite(buffer_.data(), sizeof(PackedPerson), buffer_.size(), f) != buffer_.size() ||
      std::fflush(f) != 0) {
    return Status::IoError("cannot write a sort run to " + temp_dir_ + " (disk full?): " + std::strerror(errno));
  }
  std::rewind(f);
  buffer_.clear();
  return Status::Ok();
}

Status PersonSorter::Drain(const std::function<Status(const PackedPerson&)>& visit) {
  std::sort(buffer_.begin(), buffer_.end(), Before);
  if (runs_.empty()) {
    for (const auto& p : buffer_) GW_RETURN_IF_ERROR(visit(p));
    buffer_.clear();
    return Status::Ok();
  }
  // k-way merge of the spilled runs and the in-memory tail.
  struct Head {
    PackedPerson p;
    size_t source;  // runs_.size() for the in-memory buffer
  };
  auto later = [](const Head& a, const Head& b) { return Before(b.p, a.p); };
  std::priority_queue<Head, std::vector<Head>, decltype(later)> heap(later);
  size_t next_in_buffer = 0;
  auto refill = [&](size_t source) -> Status {
    Head h{};
    h.source = source;
    if (source == runs_.size()) {
      if (next_in_buffer == buffer_.size()) return Status::Ok();
      h.p = buffer_[next_in_buffer++];
    } else if (std::fread(&h.p, sizeof(PackedPerson), 1, runs_[source]) != 1) {
      if (std::ferror(runs_[source])) return Status::IoError("cannot read a sort run back");
      return Status::Ok();
    }
    heap.push(h);
    return Status::Ok();
  };
  for (size_t i = 0; i <= runs_.size(); ++i) GW_RETURN_IF_ERROR(refill(i));
  while (!heap.empty()) {
    Head h = heap.top();
    heap.pop();
    GW_RETURN_IF_ERROR(visit(h.p));
    GW_RETURN_IF_ERROR(refill(h.source));
  }
  buffer_.clear();
  return Status::Ok();
}

}  // namespace gw
