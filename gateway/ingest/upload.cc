#include "gateway/ingest/upload.h"

#include <cstring>

namespace gw {
namespace {
constexpr size_t kMaxQueuedChunks = 8;
}

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

void UploadIngest::Run() {
  QueueSource source(*this);
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
  Result<Receipt> result = ingestor.Ingest(req, source);
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
