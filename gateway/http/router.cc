#include "gateway/http/router.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <future>
#include <memory>
#include <string_view>

#include <nlohmann/json.hpp>

namespace gw::http {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes (and '+' when `plus_is_space`). A decoded NUL counts as
// bad encoding: decoded values reach C APIs (SQLite, file names) where a NUL
// would silently truncate them.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return false;
      out->push_back(decoded);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

// "/" -> {}, "/a/b" -> {"a","b"}, "/a/" -> {"a",""}. Empty segments are kept so
// that "/a//b" cannot match "/a/b".
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  if (path.empty() || path.front() != '/') return parts;
  path.remove_prefix(1);
  if (path.empty()) return parts;
  while (true) {
    size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

}  // namespace

std::string Request::Header(std::string_view lower_name) const {
  auto it = headers.find(std::string(lower_name));
  return it == headers.end() ? std::string() : it->second;
}

std::optional<std::string> Request::QueryParam(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return std::nullopt;
}

Response ErrorResponse(int status, std::string_view code, std::string_view message) {
  nlohmann::json doc = {
      {"error", {{"code", std::string(code)}, {"message", std::string(message)}}}};
  Response response;
  response.status = status;
  response.content_type = "application/json";
  response.body = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

Status ParseTarget(std::string_view target, size_t max_query_params, std::string* path,
                   std::vector<std::pair<std::string, std::string>>* query) {
  path->clear();
  query->clear();
  if (target.empty() || target.front() != '/') {
    return Status::InvalidArgument("request target must be an absolute path");
  }
  size_t qmark = target.find('?');
  std::string_view raw_path = target.substr(0, qmark);
  if (!PercentDecode(raw_path, /*plus_is_space=*/false, path)) {
    return Status::InvalidArgument("request path has bad percent-encoding");
  }
  if (qmark == std::string_view::npos) return Status::Ok();

  std::string_view rest = target.substr(qmark + 1);
  size_t position = 0;
  std::string key;
  std::string value;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view piece = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (piece.empty()) continue;
    ++position;
    if (position > max_query_params) {
      return Status::InvalidArgument("too many query parameters (limit " +
                                     std::to_string(max_query_params) + ")");
    }
    size_t eq = piece.find('=');
    std::string_view raw_key = piece.substr(0, eq);
    std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
    if (!PercentDecode(raw_key, /*plus_is_space=*/true, &key) ||
        !PercentDecode(raw_value, /*plus_is_space=*/true, &value)) {
      return Status::InvalidArgument("query parameter " + std::to_string(position) +
                                     " has bad percent-encoding");
    }
    query->emplace_back(std::move(key), std::move(value));
  }
  return Status::Ok();
}

std::vector<Router::Segment> Router::ParsePattern(const std::string& pattern) {
  std::vector<Segment> segments;
  for (std::string_view part : SplitPath(pattern)) {
    Segment segment;
    if (part.size() > 2 && part.front() == '{' && part.back() == '}') {
      segment.is_param = true;
      segment.text = std::string(part.substr(1, part.size() - 2));
    } else {
      segment.text = std::string(part);
    }
    segments.push_back(std::move(segment));
  }
  return segments;
}

void Router::Add(std::string method, std::string pattern, Handler handler) {
  for (Route& route : routes_) {
    if (route.method == method && route.pattern == pattern) {
      route.handler = std::move(handler);
      route.streaming = nullptr;
      route.body_limit = 0;
      return;
    }
  }
  Route route;
  route.segments = ParsePattern(pattern);
  route.method = std::move(method);
  route.pattern = std::move(pattern);
  route.handler = std::move(handler);
  routes_.push_back(std::move(route));
}

void Router::AddStreaming(std::string method, std::string pattern, StreamingHandler handler,
                          size_t body_limit) {
  for (Route& route : routes_) {
    if (route.method == method && route.pattern == pattern) {
      route.handler = nullptr;
      route.streaming = std::move(handler);
      route.body_limit = body_limit;
      return;
    }
  }
  Route route;
  route.segments = ParsePattern(pattern);
  route.method = std::move(method);
  route.pattern = std::move(pattern);
  route.streaming = std::move(handler);
  route.body_limit = body_limit;
  routes_.push_back(std::move(route));
}

bool Router::Matches(const Route& route, const std::vector<std::string_view>& parts) {
  if (route.segments.size() != parts.size()) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Segment& segment = route.segments[i];
    if (segment.is_param ? parts[i].empty() : segment.text != parts[i]) return false;
  }
  return true;
}

bool Router::MoreSpecific(const Route& a, const Route& b) {
  for (size_t i = 0; i < a.segments.size() && i < b.segments.size(); ++i) {
    if (a.segments[i].is_param != b.segments[i].is_param) return !a.segments[i].is_param;
  }
  return false;
}

const Router::Route* Router::Resolve(const Request& request,
                                     std::vector<std::string>* allowed) const {
  const std::vector<std::string_view> parts = SplitPath(request.path);
  const bool path_ok = !request.path.empty() && request.path.front() == '/';
  const Route* best = nullptr;
  const Route* get_for_head = nullptr;
  for (const Route& route : routes_) {
    if (!path_ok || !Matches(route, parts)) continue;
    if (allowed != nullptr) allowed->push_back(route.method);
    if (route.method == request.method) {
      if (best == nullptr || MoreSpecific(route, *best)) best = &route;
    } else if (request.method == "HEAD" && route.method == "GET") {
      if (get_for_head == nullptr || MoreSpecific(route, *get_for_head)) get_for_head = &route;
    }
  }
  return best != nullptr ? best : get_for_head;
}

Router::StreamingRoute Router::FindStreaming(Request& request) const {
  const Route* route = Resolve(request, nullptr);
  if (route == nullptr || !route->streaming) return {};
  const std::vector<std::string_view> parts = SplitPath(request.path);
  request.path_params.clear();
  request.route = route->pattern;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (route->segments[i].is_param) {
      request.path_params[route->segments[i].text] = std::string(parts[i]);
    }
  }
  return StreamingRoute{&route->streaming, route->body_limit};
}

Response Router::RunStreaming(const Route& route, const Request& request) {
  if (request.body.size() > route.body_limit) {
    return ErrorResponse(413, "too_large",
                         "request body exceeds " + std::to_string(route.body_limit) + " bytes");
  }
  HeadDecision decision = route.streaming(request);
  if (auto* later = std::get_if<DeferredHead>(&decision)) {
    auto decided = std::make_shared<std::promise<HeadDecision>>();
    std::future<HeadDecision> next = decided->get_future();
    // The callback holds the only reference: dropped uncalled, it breaks the promise.
    later->start(
        [decided = std::move(decided)](HeadDecision d) { decided->set_value(std::move(d)); });
    try {
      decision = next.get();
    } catch (const std::future_error&) {  // dropped uncalled
      return ErrorResponse(500, "internal", "internal error");
    }
    if (std::holds_alternative<DeferredHead>(decision))
      return ErrorResponse(500, "internal", "internal error");
  }
  if (auto* response = std::get_if<Response>(&decision)) return std::move(*response);
  std::shared_ptr<BodyConsumer> consumer = std::get<std::shared_ptr<BodyConsumer>>(decision);
  if (!consumer) return ErrorResponse(500, "internal", "internal error");
  if (!request.body.empty()) {
    auto ready = std::make_shared<std::promise<void>>();
    std::future<void> consumed = ready->get_future();
    consumer->Consume(request.body, [ready] { ready->set_value(); });
    consumed.wait();
  }
  auto done = std::make_shared<std::promise<Response>>();
  std::future<Response> answer = done->get_future();
  consumer->Finish(Status::Ok(), [done](Response r) { done->set_value(std::move(r)); });
  return answer.get();
}

Response Router::DispatchDeferred(Request& request) const {
  std::vector<std::string> allowed;
  const Route* best = Resolve(request, &allowed);

  if (allowed.empty()) return ErrorResponse(404, "not_found", "no such resource");
  if (best == nullptr) {
    if (std::find(allowed.begin(), allowed.end(), "GET") != allowed.end()) {
      allowed.push_back("HEAD");
    }
    std::sort(allowed.begin(), allowed.end());
    allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
    std::string allow;
    for (const std::string& method : allowed) {
      if (!allow.empty()) allow += ", ";
      allow += method;
    }
    Response response = ErrorResponse(405, "method_not_allowed", "method not allowed");
    response.headers.emplace_back("Allow", std::move(allow));
    return response;
  }

  const std::vector<std::string_view> parts = SplitPath(request.path);
  request.path_params.clear();
  request.route = best->pattern;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (best->segments[i].is_param) {
      request.path_params[best->segments[i].text] = std::string(parts[i]);
    }
  }
  try {
    if (best->streaming) return RunStreaming(*best, request);
    return best->handler(request);
  } catch (...) {
    // what() is deliberately dropped: it may quote submitted values.
    return ErrorResponse(500, "internal", "internal error");
  }
}

Response Settle(Response response) {
  if (response.deferred) {
    auto answer = std::make_shared<std::promise<Response>>();
    std::future<Response> settled = answer->get_future();
    auto deferred = std::move(response.deferred);
    deferred([answer](Response r) { answer->set_value(std::move(r)); });
    response = settled.get();
  }
  if (response.shared_body) {
    response.body = *response.shared_body;
    response.shared_body.reset();
  }
  return response;
}

std::vector<std::pair<std::string, std::string>> Router::Routes() const {
  std::vector<std::pair<std::string, std::string>> routes;
  routes.reserve(routes_.size());
  for (const Route& route : routes_) routes.emplace_back(route.method, route.pattern);
  return routes;
}

}  // namespace gw::http
