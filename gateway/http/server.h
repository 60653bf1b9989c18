// Server: an HTTP/1.1 server (Boost.Beast, asynchronous) that hands complete,
// size-checked requests to a Router and writes back its Responses.
//
// Contract:
//  * Every connection is a session on its own strand; requests on one
//    connection are handled one at a time, in order (keep-alive and pipelined
//    requests are supported). The handler runs synchronously on the session's
//    thread, so a slow handler occupies one of the `threads` threads.
//  * Limits are enforced before a handler sees anything: the request head must
//    arrive within header_timeout of the connection opening (or of the first
//    byte of a later keep-alive request) and fit in header_limit (431 above);
//    a Content-Length above body_limit is answered 413 without reading the
//    body (a chunked body is cut off at body_limit, also 413); malformed
//    messages get a 400 JSON error; all of these close the connection. A bad
//    target (percent-encoding, too many query parameters) gets a 400 but keeps
//    the connection, as the message itself was well framed.
//  * Every response carries Content-Type, Content-Length, Cache-Control:
//    no-store and X-Content-Type-Options: nosniff. HEAD is answered by the GET
//    route with the body dropped (Content-Length kept).
//  * Nothing throws out of a completion handler: a handler's exception is a 500
//    (Router), and anything else escaping is caught at the session boundary
//    and closes that connection only. The io_context threads also restart
//    run() if an exception ever reaches them.
//  * The server never logs. on_complete is the only observer and it receives
//    the Request with its body emptied and credential headers (authorization,
//    proxy-authorization, cookie, x-api-key) removed, so an access log built
//    on it cannot leak them.
//
// Shutdown: Stop() stops accepting, closes connections that are idle between
// requests at once, lets requests already being read or handled finish (their
// responses say Connection: close), and stops the io_context when the last
// connection is gone or after shutdown_timeout, whichever comes first. Stop()
// is not async-signal-safe: call it from a thread that waits for signals
// (sigwait, or an asio::signal_set on a different io_context), not from a
// signal handler. Block SIGINT/SIGTERM in the main thread before Start() so
// the server threads inherit the mask and never receive them.
//
// Streaming uploads: the head and the body are read in two steps. The head is
// parsed with a header-only parser; the decision what to do with the body is
// made in one place (the session's OnHeader step), before any body byte is
// read. If the route the Router would choose is a streaming one
// (Router::AddStreaming), the session parses the target, calls the
// StreamingHandler with the head (no body) and:
//  * if it returns a Response, sends it with Connection: close without
//    reading the body (lingering as for other refusals);
//  * if it returns a BodyConsumer, reads the body with a buffer_body parser in
//    chunks of up to 64 KiB, each read bounded by body_timeout (an inactivity
//    bound: time spent in the consumer does not count), and passes each chunk
//    to Consume(); the next read starts only after `ready` (posted onto the
//    session's strand, so calling it synchronously is safe). The route's own
//    body limit applies instead of body_limit: a Content-Length above it is
//    answered 413 before the handler runs; a chunked body is cut off there and
//    the consumer is finished with TooLarge. Finish() gets OK, or the reason
//    the body was cut short, and the Response passed to `done` is sent (kept
//    alive only if the whole body was read). If the client went away or timed
//    out, the connection is dropped when `done` arrives.
// A request with both Content-Length and Transfer-Encoding is refused with 400
// on every route.
//
// Thread-safety: Listen() and Start() must be called from one thread, before
// serving; port() is safe after Listen(); Stop() and Wait() may be called from
// any thread, concurrently and repeatedly. Stop() from inside a handler only
// initiates the shutdown (it cannot wait for itself). The Router must outlive
// the Server and must not be modified while it serves.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "gateway/common/status.h"
#include "gateway/http/request.h"
#include "gateway/http/router.h"

namespace gw::http {

struct ServerOptions {
  int threads = 0;  // 0: std::thread::hardware_concurrency()
  // The whole request head must arrive in this time (slowloris).
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{60000};
  std::chrono::milliseconds idle_timeout{30000};  // keep-alive idle, between requests
  std::chrono::milliseconds write_timeout{30000};
  // Bound on the graceful part of Stop(); after it, remaining connections are
  // dropped.
  std::chrono::milliseconds shutdown_timeout{5000};
  size_t header_limit = 16 * 1024;
  size_t body_limit = 1 << 20;    // for requests with a buffered body; 413 above it
                                  // (streaming routes carry their own limit)
  size_t max_connections = 1024;  // refuse (close) above it
  size_t max_query_params = 64;   // 400 above it
  // Access log / metrics hook: called once per response after its write
  // completed or failed, on the session's thread, with the time from the first
  // byte of the request. Must not throw (it is guarded anyway) and should be
  // fast. See the header comment for what is redacted from the Request.
  std::function<void(const Request&, const Response&, std::chrono::microseconds)> on_complete;
};

namespace detail {
class ServerCore;
}  // namespace detail

class Server {
 public:
  Server(ServerOptions options, const Router& router);
  ~Server();  // Stop() then Wait()

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; `port` 0 lets the OS choose (see port()). `host` is an
  // IP address or a resolvable name. Errors (bind failure, bad host, second
  // call) are returned, naming host:port.
  Status Listen(const std::string& host, uint16_t port);
  uint16_t port() const;

  // Runs the io_context on `threads` threads and returns. No-op unless
  // listening, or once stopped.
  void Start();

  // Graceful shutdown (see header comment). Idempotent. From a thread that is
  // not a server thread, returns once the server threads have exited; from a
  // handler, returns at once.
  void Stop();

  // Blocks until the server threads have exited (immediately if never
  // started). Must not be called from a handler.
  void Wait();

 private:
  std::unique_ptr<detail::ServerCore> core_;
};

}  // namespace gw::http
