// Request and Response: the plain values exchanged between the HTTP server and
// the API handlers, so that handlers never see Beast types and can be tested
// without a socket.
//
// A Request is built by the server from a complete, size-checked message: the
// path and the query are already percent-decoded and header names lower-cased.
// A Response is what a handler returns; the server adds the framing headers
// (Content-Length, Connection) and the security headers (Cache-Control:
// no-store, X-Content-Type-Options: nosniff) itself, so handlers cannot forget
// them or get them wrong.
//
// Messages in ErrorResponse bodies go to the client verbatim: build them from
// parameter names, positions and codes, never from submitted values (see
// common/status.h).
//
// Thread-safety: values; a Handler may run on any server thread, concurrently
// with itself, so whatever it captures must be safe for concurrent use.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/common/status.h"

namespace gw::http {

struct Request {
  std::string method;  // "GET", case as received (methods are case-sensitive)
  std::string target;  // raw target as received
  std::string path;    // percent-decoded path, no query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order, '+' -> ' '
  std::map<std::string, std::string> headers;  // lower-case names; repeats joined with ", "
  std::string body;
  std::map<std::string, std::string> path_params;  // from "{name}" segments
  std::string route;  // the matched pattern, e.g. "/v1/codelists/{name}"; empty if none
  std::string remote_address;                      // peer IP, no port

  // The header's value, or "" if absent. `lower_name` must be lower-case.
  std::string Header(std::string_view lower_name) const;

  // The first value of query parameter `name`, or nullopt if it is absent
  // (a present but empty parameter, "?a" or "?a=", yields "").
  std::optional<std::string> QueryParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // When set, sent instead of `body` (left empty): an answer kept in a cache
  // goes out without being copied per request.
  std::shared_ptr<const std::string> shared_body;
  size_t BodySize() const { return shared_body ? shared_body->size() : body.size(); }
  // Extra headers. The framing headers (Content-Length, Transfer-Encoding,
  // Connection) are the server's and are ignored here; Cache-Control and
  // X-Content-Type-Options are always overwritten with the policy values.
  std::vector<std::pair<std::string, std::string>> headers;
  // Who was served ("consumer", "operator", "ministry" or empty), for the
  // request log and metrics only; never sent.
  std::string role;
  // Set when the answer must wait for something slower than the handler should
  // block a server thread for (a release waits until its audit entry is
  // durable). The other fields are then ignored: the server calls `deferred`
  // once with a `done` callback and sends the Response given to `done`, which
  // must be called exactly once, from any thread. Whatever `deferred` captures
  // must not refer to the Request.
  std::function<void(std::function<void(Response)> done)> deferred;
};

// The final answer of `response`: itself, or, if it is deferred, what its
// completion delivers (waiting for it on this thread), with a shared body
// copied into `body`. For callers without a server, such as tests and
// Router::Dispatch().
Response Settle(Response response);

// {"error":{"code":<code>,"message":<message>}}, serialised with nlohmann::json
// so that both strings are escaped (invalid UTF-8 is replaced, not thrown).
Response ErrorResponse(int status, std::string_view code, std::string_view message);

// May run on any server thread, concurrently. Exceptions are caught by the
// Router and answered with a 500 that does not reveal what() — but a handler
// should still return errors as values (ErrorResponse) rather than throw.
using Handler = std::function<Response(const Request&)>;

// Splits an origin-form target ("/path?query") into its decoded path and
// query. Fails with InvalidArgument if the target does not start with '/', if
// the path or a query parameter has bad percent-encoding or decodes to a NUL
// byte (the message names the 1-based parameter position, never its value), or
// if there are more than `max_query_params` parameters. Empty pieces of the
// query ("a=1&&b=2") are skipped and not counted.
Status ParseTarget(std::string_view target, size_t max_query_params, std::string* path,
                   std::vector<std::pair<std::string, std::string>>* query);

}  // namespace gw::http
