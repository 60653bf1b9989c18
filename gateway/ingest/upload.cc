#include "gateway/ingest/upload.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace gw {
namespace {
constexpr size_t kMaxQueuedChunks = 8;

// Why writing the spool failed, in the operator's terms.
std::string WriteCause(int err) {
  if (err == ENOSPC || err == EDQUOT) return "the disk holding the data directory is full";
  if (err == EFBIG) return "a file size limit was reached (ulimit -f)";
  return std::strerror(err);
}

// The spool of one upload: a file beside the database, unlinked at once, so it
// disappears with its descriptor (also after a crash).
Result<int> CreateSpool(const std::string& dir) {
  std::string name = dir + "/.upload-XXXXXX";
  int fd = mkstemp(name.data());
  if (fd < 0) {
    return Status::Unavailable("cannot create the upload's spool file in " + dir + " (" + WriteCause(errno) +
                               "); nothing was stored");
  }
  unlink(name.c_str());
  return fd;
}

class FdSource : public ByteSource {
 public:
  explicit FdSource(int fd) : fd_(fd) {}
  ~FdSource() override { close(fd_); }
  Result<size_t> Read(char* buffer, size_t capacity) override {
    while (true) {
      ssize_t n = read(fd_, buffer, capacity);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return Status::IoError(std::string("cannot read the spooled upload: ") + std::strerror(errno));
    }
  }

 private:
  int fd_;
};

}  // namespace

class UploadIngest::QueueSource : public ByteSource {
 public:
  explicit QueueSource(UploadIngest& owner) : owner_(owner) {}

  Result<size_t> Read(char* buffer, size_t capacity) override {
    std::function<void()> ready;
    size_t n = 0;
    {
      std::unique_lock<std::mutex> lock(owner_.mu_);
      owner_.cv_.wait(lock, [&] { return !owner_.chunks_.empty() || owner_.closed_; });
      if (owner_.chunks_.empty()) {
        if (!owner_.close_status_.ok()) {
          return Status::Unavailable("the upload was cut short: " + owner_.close_status_.message());
        }
        return size_t{0};
      }
      std::string& front = owner_.chunks_.front();
      n = std::min(capacity, front.size() - offset_);
      std::memcpy(buffer, front.data() + offset_, n);
      offset_ += n;
      if (offset_ == front.size()) {
        owner_.chunks_.pop_front();
        offset_ = 0;
        if (owner_.pending_ready_ && owner_.chunks_.size() < kMaxQueuedChunks) {
          ready = std::move(owner_.pending_ready_);
          owner_.pending_ready_ = nullptr;
        }
      }
    }
    if (ready) ready();
    return n;
  }

 private:
  UploadIngest& owner_;
  size_t offset_ = 0;
};

UploadIngest::UploadIngest(Store& store, KeyRing& keys, IngestRequest request,
                           http::ExpectedDigest expected, Done done)
    : store_(store),
      keys_(keys),
      request_(std::move(request)),
      expected_(std::move(expected)),
      done_(std::move(done)),
      digest_(expected_.algorithm) {
  worker_ = std::thread([this] { Run(); });
}

UploadIngest::~UploadIngest() {
  Close(Status::Unavailable("the upload was abandoned"));
  if (worker_.joinable()) worker_.join();
}

void UploadIngest::Push(std::string_view chunk, std::function<void()> ready) {
  digest_.Update(chunk);
  bool now = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || finished_) {
      now = true;  // nobody reads any more: let the rest of the body drain
    } else {
      chunks_.emplace_back(chunk);
      now = chunks_.size() < kMaxQueuedChunks;
      if (!now) pending_ready_ = std::move(ready);
    }
  }
  cv_.notify_one();
  if (now) ready();
}

void UploadIngest::Close(Status status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
    close_status_ = std::move(status);
  }
  cv_.notify_all();
}

// The body is spooled to a file beside the database as it arrives, and the
// ingest reads that file once the body is complete. The snapshot's write
// transaction (which excludes every other writer of the store) therefore
// never waits for the network: held while the body trickled in, it made the
// server's I/O threads that audit releases, debit budgets or record nonces
// wait on it, and once they all waited nobody read the body it was waiting
// for (a deadlock of the whole server; tests/integration/soak_test.cc).
Result<Receipt> UploadIngest::SpoolAndIngest() {
  std::string dir = std::filesystem::path(store_.path()).parent_path().string();
  GW_ASSIGN_OR_RETURN(int fd, CreateSpool(dir.empty() ? "." : dir));
  FdSource spooled(fd);  // owns fd
  QueueSource source(*this);
  std::vector<char> buffer(size_t{1} << 16);
  while (true) {
    GW_ASSIGN_OR_RETURN(size_t n, source.Read(buffer.data(), buffer.size()));
    if (n == 0) break;
    for (size_t done = 0; done < n;) {
      ssize_t w = write(fd, buffer.data() + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        return Status::Unavailable("cannot keep the upload in " + dir + " while it arrives (" + WriteCause(errno) +
                                   "); nothing was stored");
      }
      done += static_cast<size_t>(w);
    }
  }
  if (lseek(fd, 0, SEEK_SET) != 0) {
    return Status::IoError(std::string("cannot rewind the spooled upload: ") + std::strerror(errno));
  }
  IngestRequest req = request_;
  // Called after the adapter has read the whole body (end of input), so the
  // digest covers every byte; nothing is committed if it differs.
  req.verify_before_commit = [this]() -> Status {
    std::string actual = digest_.Final();
    if (actual != expected_.digest) {
      return Status::InvalidArgument("the body does not match its Content-Digest (" + expected_.algorithm +
                                     "); nothing was stored");
    }
    return Status::Ok();
  };
  Ingestor ingestor(store_, keys_);
  return ingestor.Ingest(req, spooled);
}

void UploadIngest::Run() {
  Result<Receipt> result = SpoolAndIngest();
  std::function<void()> ready;
  {
    std::lock_guard<std::mutex> lock(mu_);
    finished_ = true;
    chunks_.clear();
    ready = std::move(pending_ready_);
    pending_ready_ = nullptr;
  }
  if (ready) ready();
  done_(std::move(result));
}

}  // namespace gw
