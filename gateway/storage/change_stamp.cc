#include "gateway/storage/change_stamp.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>

namespace gw {
namespace {
constexpr size_t kMapBytes = 4096;
// Values handed out when there is no shared counter: never equal to an earlier
// one, so nothing is ever served from a cache.
std::atomic<uint64_t> unshared_counter{uint64_t{1} << 62};
}  // namespace

ChangeStamp::~ChangeStamp() {
  if (shared_ != nullptr) munmap(shared_, kMapBytes);
}

bool ChangeStamp::Open(const std::string& database_path) {
  const std::string path = database_path + "-stamp";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  // Extending a file never changes bytes already there, so racing openers
  // agree; a fresh file reads as zero.
  bool ok = ftruncate(fd, kMapBytes) == 0;
  void* mapped = ok ? mmap(nullptr, kMapBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
  close(fd);
  if (mapped == MAP_FAILED) return false;
  shared_ = static_cast<uint64_t*>(mapped);
  return true;
}

uint64_t ChangeStamp::Load() const {
  if (shared_ == nullptr) return unshared_counter.fetch_add(1, std::memory_order_relaxed);
  return std::atomic_ref<uint64_t>(*shared_).load(std::memory_order_acquire);
}

void ChangeStamp::Bump() {
  if (shared_ == nullptr) return;
  std::atomic_ref<uint64_t>(*shared_).fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace gw
