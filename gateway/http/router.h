// Router: maps (method, decoded path) to a Handler.
//
// Patterns are absolute paths whose segments are either literals or "{name}"
// placeholders, e.g. "/v1/snapshots/{country}/{ref_date}". A placeholder
// matches exactly one non-empty segment; matching is exact otherwise (no
// trailing-slash or case folding, no prefix routes), so every servable URL is
// one the router was told about and Routes() can be checked against the
// OpenAPI document. Because the server decodes the path before routing, "%2F"
// in a request path splits a segment like "/" does: a parameter value never
// contains '/'.
//
// When several patterns match, the most specific wins: segments are compared
// left to right and a literal beats a placeholder ("/v1/snapshots/latest"
// beats "/v1/snapshots/{id}" for GET .../latest). Ties go to the route added
// first. A HEAD request without a HEAD route is served by the GET route (the
// server then drops the body).
//
// Dispatch answers 404 when no pattern matches the path and 405 with an Allow
// header when some pattern matches but not for this method. Exceptions thrown
// by a handler are caught and answered 500 without their what(): messages of
// exceptions from deep inside a handler may carry submitted values.
//
// Streaming routes (AddStreaming) take the request head first and return a
// BodyConsumer that receives the body chunk by chunk (see streaming.h), under
// their own body limit. The server asks FindStreaming() before it reads any
// body byte; Dispatch() of a streaming route (no server in between, e.g. in
// tests) feeds the buffered body to the consumer and waits for its answer.
//
// Routes are few (tens), so Dispatch scans them linearly.
//
// Thread-safety: Add() must complete before the server starts; Dispatch(),
// Routes() and size() are const and safe to call concurrently.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "gateway/http/request.h"
#include "gateway/http/streaming.h"

namespace gw::http {

class Router {
 public:
  // `pattern` must start with '/'. Adding a (method, pattern) pair that is
  // already present replaces its handler: routes are wired once at start-up and
  // Routes() makes duplicates visible to the OpenAPI check.
  void Add(std::string method, std::string pattern, Handler handler);

  // A route whose body is streamed to the consumer `handler` returns, up to
  // `body_limit` bytes (the server's buffered body_limit does not apply).
  // Replaces an existing (method, pattern) route like Add().
  void AddStreaming(std::string method, std::string pattern, StreamingHandler handler,
                    size_t body_limit);

  struct StreamingRoute {
    const StreamingHandler* handler = nullptr;
    size_t body_limit = 0;
  };
  // If the route Dispatch() would choose for `request` (method and decoded
  // path set) is a streaming one, fills request.path_params and returns it;
  // otherwise returns a route with handler == nullptr and leaves `request`
  // alone.
  StreamingRoute FindStreaming(Request& request) const;

  // Fills request.path_params from the matched pattern and runs its handler on
  // the calling thread. The answer may be deferred (see Response::deferred):
  // the server completes it without blocking a thread.
  Response DispatchDeferred(Request& request) const;
  // DispatchDeferred(), then waits for a deferred answer: always final.
  Response Dispatch(Request& request) const { return Settle(DispatchDeferred(request)); }

  // (method, pattern) in the order added.
  std::vector<std::pair<std::string, std::string>> Routes() const;

  size_t size() const { return routes_.size(); }

 private:
  struct Segment {
    std::string text;  // the literal, or the placeholder's name
    bool is_param = false;
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;             // buffered routes
    StreamingHandler streaming;  // streaming routes
    size_t body_limit = 0;       // streaming routes
  };

  // The route for (method, path), or nullptr with `allowed` filled with the
  // methods of matching patterns.
  const Route* Resolve(const Request& request, std::vector<std::string>* allowed) const;
  static Response RunStreaming(const Route& route, const Request& request);

  static std::vector<Segment> ParsePattern(const std::string& pattern);
  static bool Matches(const Route& route, const std::vector<std::string_view>& parts);
  // True if `a` is more specific than `b` (both match the same path).
  static bool MoreSpecific(const Route& a, const Route& b);

  std::vector<Route> routes_;
};

}  // namespace gw::http
