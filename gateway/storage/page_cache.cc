#include "gateway/storage/page_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace gw {

uint64_t AvailableMemoryBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  constexpr std::string_view kKey = "MemAvailable:";
  while (std::getline(meminfo, line)) {
    if (line.compare(0, kKey.size(), kKey) != 0) continue;
    uint64_t kib = 0;
    for (char c : line.substr(kKey.size())) {
      if (c >= '0' && c <= '9') kib = kib * 10 + static_cast<uint64_t>(c - '0');
    }
    return kib * 1024;
  }
  return 0;
}

// Not common/byte_source.h's FileSource: its fopen would block on a FIFO, and
// it cannot tell a missing WAL (nothing to read) from a failure.
Result<uint64_t> ReadIntoPageCache(const std::string& path, uint64_t max_bytes) {
  // Allocated first, so that nothing can throw while the descriptor is open.
  std::vector<char> buffer(size_t{1} << 20);
  // O_NONBLOCK: a FIFO in the database's place must not block the start.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return uint64_t{0};
    return Status::IoError("cannot open " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::IoError(path + " is not a regular file");
  }
  // The whole file is wanted in order: a larger read-ahead window means fewer,
  // longer disk reads.
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  uint64_t done = 0;
  Status status = Status::Ok();
  while (done < max_bytes) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), max_bytes - done));
    const ssize_t n = ::read(fd, buffer.data(), want);
    if (n < 0) {
      if (errno == EINTR) continue;
      status = Status::IoError("cannot read " + path + ": " + std::strerror(errno));
      break;
    }
    if (n == 0) break;
    done += static_cast<uint64_t>(n);
  }
  ::close(fd);
  if (!status.ok()) return status;
  return done;
}

uint64_t ReadDatabaseAhead(const std::string& database_path, uint64_t max_bytes) {
  uint64_t done = 0;
  for (const std::string& file : {database_path, database_path + "-wal"}) {
    if (auto read = ReadIntoPageCache(file, max_bytes - done); read.ok()) done += *read;
  }
  return done;
}

uint64_t ReadDatabaseAhead(const std::string& database_path) {
  return ReadDatabaseAhead(database_path, AvailableMemoryBytes() / 2);
}

}  // namespace gw
