// UploadIngest: runs an ingest on a worker thread while the body of an HTTP
// upload arrives, so the body streams through the adapter into an
// uncommitted snapshot and is never held whole in memory.
//
// The network side pushes chunks with Push() (bounded queue: Push reports when
// the next chunk may come) and ends with Close(status). The worker writes them
// to a spool file beside the database (unlinked at once) and, once the body is
// complete, ingests that file: the store's write transaction is never held
// while waiting for the network. The body is hashed with the digest the
// client declared, and the snapshot commits only if that digest matches.
//
// Thread-safety: Push/Close from one thread (the network side); callbacks run
// on the worker thread or the caller's.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "gateway/common/byte_source.h"
#include "gateway/http/message_signatures.h"
#include "gateway/ingest/ingest.h"

namespace gw {

class UploadIngest {
 public:
  using Done = std::function<void(Result<Receipt>)>;

  // `expected` is the client's Content-Digest; `done` is called once, on the
  // worker thread, with the receipt or the error.
  UploadIngest(Store& store, KeyRing& keys, IngestRequest request, http::ExpectedDigest expected, Done done);
  ~UploadIngest();  // joins the worker

  // Queues a chunk; `ready` is called (now or later, from any thread) when the
  // next chunk may be pushed.
  void Push(std::string_view chunk, std::function<void()> ready);
  // The body ended (OK) or was cut short; the ingest then finishes or aborts.
  void Close(Status status);

 private:
  class QueueSource;
  void Run();
  Result<Receipt> SpoolAndIngest();

  Store& store_;
  KeyRing& keys_;
  IngestRequest request_;
  http::ExpectedDigest expected_;
  Done done_;
  http::StreamingDigest digest_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> chunks_;          // guarded by mu_
  std::function<void()> pending_ready_;     // guarded by mu_
  bool closed_ = false;                     // guarded by mu_
  bool finished_ = false;                   // guarded by mu_: the worker is done
  Status close_status_;                     // guarded by mu_
  std::thread worker_;
};

}  // namespace gw
