// Streaming request bodies (uploads): instead of buffering the body, the
// server asks a StreamingHandler about the request head first — before any
// body byte is read — and then feeds the body chunk by chunk to the
// BodyConsumer it returned, with backpressure.
//
// Contract between the server and a consumer:
//  * Consume() gets each chunk in order; the bytes stay valid until the
//    consumer calls `ready` (exactly once, from any thread). The server reads
//    the next chunk only after `ready`, so a slow consumer slows the client
//    instead of growing memory.
//  * Finish() is called exactly once, after the last Consume()'s `ready`:
//    with OK when the body is complete, or with the reason it was cut short
//    (timeout, client gone, over the route's limit). The consumer calls
//    `done` exactly once, from any thread, with the response to send.
//  * Neither call may throw; neither `ready` nor `done` may be called from
//    inside Consume()/Finish() re-entrantly more than once.
//
// Thread-safety: the server calls a consumer from one strand at a time; the
// callbacks are safe to call from any thread.
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <variant>

#include "gateway/common/status.h"
#include "gateway/http/request.h"

namespace gw::http {

class BodyConsumer {
 public:
  virtual ~BodyConsumer() = default;
  virtual void Consume(std::string_view chunk, std::function<void()> ready) = 0;
  virtual void Finish(Status status, std::function<void(Response)> done) = 0;
};

// From the head alone: a Response to send at once (the body is then not read,
// and the connection is closed), the consumer of the body, or a decision that
// needs work which may wait (a database write): DeferredHead.
struct DeferredHead;
using HeadDecision = std::variant<Response, std::shared_ptr<BodyConsumer>, DeferredHead>;
using StreamingHandler = std::function<HeadDecision(const Request& head)>;

// The head's decision taken elsewhere (a worker thread) so that no server
// thread waits for it. The server calls `start` once, reads no body byte
// meanwhile, and acts on the decision passed to its argument, which must be
// called exactly once, from any thread, with a Response or a consumer (a
// second DeferredHead is answered with 500). If it is dropped uncalled, the
// client gets a 500.
struct DeferredHead {
  std::function<void(std::function<void(HeadDecision)>)> start;
};

}  // namespace gw::http
