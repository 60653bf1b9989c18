#include "gateway/http/server.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "gateway/common/text.h"

namespace gw::http {
namespace detail {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
// A session's sockets and timers name their strand's concrete type: behind
// the polymorphic any_io_executor of beast::tcp_stream, every asynchronous
// operation heap-allocated a copy of the strand (any_executor cannot keep one
// in its small buffer): 1.3 % of the server's profile under query load
// (docs/performance.md).
using SessionExecutor = net::strand<net::io_context::executor_type>;
using SessionSocket = net::basic_stream_socket<tcp, SessionExecutor>;
using SessionStream = beast::basic_stream<tcp, SessionExecutor>;

namespace {

constexpr size_t kReadSize = 4096;
// Chunk size for streamed bodies: the most a consumer holds per Consume().
constexpr size_t kStreamChunk = 64 * 1024;
// Lingering close after an error reply: the client may still be sending the
// body we refused, and closing with unread data makes the kernel send a RST
// that can destroy our reply before the client reads it.
constexpr size_t kLingerBytes = 256 * 1024;
constexpr std::chrono::milliseconds kLingerTime{1000};
constexpr std::chrono::milliseconds kAcceptRetry{50};
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// Headers an access log must never see.
constexpr std::string_view kCredentialHeaders[] = {"authorization", "proxy-authorization", "cookie",
                                                   "x-api-key"};

std::string Str(beast::string_view s) { return std::string(s.data(), s.size()); }

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool ValidFieldName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), IsTokenChar);
}

// Rejects what would let a handler split the response (CR, LF) or confuse
// C-string consumers downstream (NUL).
bool ValidFieldValue(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool IEquals(std::string_view a, std::string_view b) {
  return beast::iequals(beast::string_view(a.data(), a.size()),
                        beast::string_view(b.data(), b.size()));
}

bool IsFramingHeader(std::string_view name) {
  return IEquals(name, "content-length") || IEquals(name, "transfer-encoding") ||
         IEquals(name, "connection");
}

std::string HostPort(const std::string& host, uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

const boost::system::error_category& HttpErrorCategory() {
  return bhttp::make_error_code(bhttp::error::bad_method).category();
}

}  // namespace

class Session;

class ServerCore {
 public:
  ServerCore(ServerOptions options, const Router& router);
  ~ServerCore();

  Status Listen(const std::string& host, uint16_t port);
  uint16_t port() const { return port_.load(); }
  void Start();
  void Stop();
  void Wait();

  // For sessions.
  const ServerOptions& options() const { return options_; }
  const Router& router() const { return router_; }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  void Unregister(uint64_t id);
  // Counts deferred answers whose completion has not been released yet: their
  // callbacks hold sessions, whose destructors use this core, so the core is
  // not destroyed before the last of them is gone.
  void BeginDeferred();
  void EndDeferred();

 private:
  void DoAccept();
  void OnAccept(beast::error_code ec, SessionSocket socket);
  void CloseAcceptor();
  void StopIoContext();
  void RunLoop();
  bool OnServerThread() { return ioc_.get_executor().running_in_this_thread(); }

  const ServerOptions options_;
  const Router& router_;
  const int thread_count_;

  std::mutex mu_;
  std::unordered_map<uint64_t, std::weak_ptr<Session>> sessions_;  // guarded by mu_
  uint64_t next_session_id_ = 0;                                   // guarded by mu_
  bool listening_ = false;                                         // guarded by mu_
  bool started_ = false;                                           // guarded by mu_
  bool stop_requested_ = false;                                    // guarded by mu_
  bool acceptor_closed_ = false;                                   // guarded by mu_
  // ioc_.stop() was issued, or will never be needed again. Keeps session
  // destructors that run while ioc_ itself is destroyed from touching it.
  bool io_stopped_ = false;  // guarded by mu_
  std::atomic<bool> stopping_{false};
  std::atomic<uint16_t> port_{0};

  std::mutex join_mu_;
  std::vector<std::thread> threads_;  // guarded by join_mu_

  std::mutex deferred_mu_;
  std::condition_variable deferred_released_;
  size_t deferred_pending_ = 0;  // guarded by deferred_mu_

  // Declared after everything sessions use: destroying the io_context
  // destroys the handlers still queued in it, and with them the last
  // references to sessions, whose destructors call Unregister().
  net::io_context ioc_;
  // The acceptor and both timers live on one strand: Stop() may come from any
  // thread, and an acceptor must not be closed concurrently with async_accept.
  tcp::acceptor acceptor_;
  net::steady_timer accept_retry_timer_;
  net::steady_timer drain_deadline_;
};

// One connection. All members are touched only on the session's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(ServerCore* core, SessionSocket socket, uint64_t id);
  ~Session();

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void Run();
  // Posts the stop notice onto the session's strand.
  void NotifyStop();

 private:
  // kIdle: no byte of the next request has arrived; safe to drop on Stop.
  // kBusy: a request is being read, handled or answered; let it finish.
  // kClosing: lingering after an error reply; safe to drop.
  enum class Phase { kIdle, kBusy, kClosing };

  // Wraps a member function as a completion handler that keeps the session
  // alive and lets no exception escape into the io_context.
  template <class... Args>
  auto Bind(void (Session::*method)(Args...)) {
    return [self = shared_from_this(), method](auto&&... args) {
      self->Guard([&] { ((*self).*method)(std::forward<decltype(args)>(args)...); });
    };
  }
  template <class F>
  void Guard(F&& f) noexcept {
    try {
      f();
    } catch (...) {
      // No response is possible from an unknown state; dropping the
      // connection is the only safe answer.
      beast::error_code ignored;
      stream_.socket().close(ignored);
    }
  }

  void WaitForRequest();
  void OnFirstBytes(beast::error_code ec, size_t bytes);
  void ReadHeader();
  void OnHeader(beast::error_code ec, size_t bytes);
  void OnContinueWritten(beast::error_code ec, size_t bytes);
  void ReadBody();
  void OnBody(beast::error_code ec, size_t bytes);
  void OnReadError(beast::error_code ec);
  // Streaming bodies (see streaming.h).
  bool TryStream();
  void OnHeadDecided(HeadDecision decision);
  void ApplyHeadDecision(HeadDecision decision);
  void StartStream();
  void ReadChunk();
  void OnChunk(beast::error_code ec, size_t bytes);
  void OnReady();
  void FinishStream(Status status);
  void OnConsumerDone(Response response);
  // Deferred answers (Response::deferred).
  void Defer(std::function<void(std::function<void(Response)>)> deferred);
  // The callback handed to deferred work: callable once from any thread, it
  // runs `on_done` on this session's strand (see DeferredCompletion).
  template <typename T>
  std::function<void(T)> CompletionOnStrand(void (Session::*on_done)(T));
  void OnDeferredDone(Response response);
  void FillHead(const bhttp::request_header<>& head);
  void Handle(std::string body);
  void SendError(int status, std::string_view code, std::string message);
  void Send(Response response, bool close, bool linger);
  bool BuildMessage(Response& response);
  void OnWrite(beast::error_code ec, size_t bytes);
  void NotifyComplete();
  void OnServerStop();
  void Shutdown();
  void Linger();
  void DrainSome();
  void OnDrain(beast::error_code ec, size_t bytes);
  void Close();

  ServerCore* const core_;
  const ServerOptions& options_;
  const uint64_t id_;
  SessionStream stream_;
  beast::flat_buffer buffer_;
  std::string remote_address_;
  Clock::time_point accepted_at_;
  Clock::time_point head_deadline_;
  Clock::time_point started_at_;
  Phase phase_ = Phase::kIdle;
  bool first_request_ = true;

  // The request in progress.
  std::optional<bhttp::request_parser<bhttp::empty_body>> header_parser_;
  std::optional<bhttp::request_parser<bhttp::string_body>> body_parser_;
  // The streamed request in progress: its parser, its consumer, the chunk
  // buffer the consumer reads from until it calls `ready`.
  std::optional<bhttp::request_parser<bhttp::buffer_body>> stream_parser_;
  std::shared_ptr<BodyConsumer> consumer_;
  std::vector<char> chunk_;
  size_t stream_limit_ = 0;
  bool streaming_ = false;
  bool awaiting_ready_ = false;
  bool awaiting_done_ = false;
  bool stream_complete_ = false;  // the whole body was read
  bool stream_drop_ = false;      // the client is gone: no answer is possible
  bool awaiting_deferred_ = false;
  bool awaiting_head_ = false;  // a DeferredHead's decision
  Request request_;
  unsigned version_ = 11;
  bool keep_alive_ = false;

  // The response in progress. Its body lives in res_ while it is written and
  // is moved back into response_ for on_complete, so it is never copied.
  bhttp::response<bhttp::string_body> res_;
  // The same for a Response with a shared body: the message only points into it.
  bhttp::response<bhttp::span_body<const char>> shared_res_;
  bool shared_ = false;
  Response response_;
  bool head_request_ = false;
  bool close_after_write_ = false;
  bool linger_ = false;
  size_t linger_budget_ = 0;
};

// ---- Session ----------------------------------------------------------------

Session::Session(ServerCore* core, SessionSocket socket, uint64_t id)
    : core_(core),
      options_(core->options()),
      id_(id),
      stream_(std::move(socket)),
      accepted_at_(Clock::now()) {
  beast::error_code ec;
  tcp::endpoint peer = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_address_ = peer.address().to_string();
  stream_.socket().set_option(tcp::no_delay(true), ec);  // best effort
}

Session::~Session() {
  beast::error_code ignored;
  stream_.socket().close(ignored);
  core_->Unregister(id_);
}

void Session::Run() {
  net::dispatch(stream_.get_executor(),
                [self = shared_from_this()] { self->Guard([&] { self->WaitForRequest(); }); });
}

// The `done` of a deferred answer (T = Response) or head (T = HeadDecision).
// Its destructor releases the session before telling the core, so the core
// outlives every session a completion holds. In `detail`, not an anonymous
// namespace: Session's member template captures it (-Wsubobject-linkage in
// the unity builds of scripts/sanitize.sh).
template <typename T>
class DeferredCompletion {
 public:
  DeferredCompletion(ServerCore* core, std::function<void(T)> deliver)
      : core_(core), deliver_(std::move(deliver)) {
    core_->BeginDeferred();
  }
  ~DeferredCompletion() {
    // Dropped without an answer (a handler's bug or an exception): the client
    // still gets one.
    if (!called_.exchange(true)) deliver_(T(ErrorResponse(500, "internal", "internal error")));
    deliver_ = nullptr;
    core_->EndDeferred();
  }
  DeferredCompletion(const DeferredCompletion&) = delete;
  DeferredCompletion& operator=(const DeferredCompletion&) = delete;

  void operator()(T value) {
    if (called_.exchange(true)) return;  // exactly once, whatever the caller does
    deliver_(std::move(value));
  }

 private:
  ServerCore* const core_;
  std::function<void(T)> deliver_;
  std::atomic<bool> called_{false};
};

template <typename T>
std::function<void(T)> Session::CompletionOnStrand(void (Session::*on_done)(T)) {
  auto self = shared_from_this();
  auto completion = std::make_shared<DeferredCompletion<T>>(core_, [self, on_done](T value) {
    net::post(self->stream_.get_executor(), [self, on_done, value = std::move(value)]() mutable {
      self->Guard([&] { ((*self).*on_done)(std::move(value)); });
    });
  });
  return [completion](T value) { (*completion)(std::move(value)); };
}

void Session::NotifyStop() {
  net::post(stream_.get_executor(),
            [self = shared_from_this()] { self->Guard([&] { self->OnServerStop(); }); });
}

void Session::OnServerStop() {
  if (phase_ != Phase::kBusy) stream_.cancel();
}

void Session::WaitForRequest() {
  if (core_->stopping()) return Close();
  if (buffer_.size() > 0) {  // pipelined: the next request has begun already
    head_deadline_ = Clock::now() + options_.header_timeout;
    return ReadHeader();
  }
  phase_ = Phase::kIdle;
  if (first_request_) {
    // A fresh connection gets header_timeout in all for its first head, so a
    // client that connects and sends nothing is dropped as fast as one that
    // sends slowly.
    stream_.expires_at(accepted_at_ + options_.header_timeout);
  } else {
    stream_.expires_after(options_.idle_timeout);
  }
  stream_.async_read_some(buffer_.prepare(kReadSize), Bind(&Session::OnFirstBytes));
}

void Session::OnFirstBytes(beast::error_code ec, size_t bytes) {
  // Idle timeout, peer closed, or Stop() cancelled us: nothing to answer.
  if (ec) return Close();
  buffer_.commit(bytes);
  if (core_->stopping()) return Close();
  head_deadline_ = first_request_ ? accepted_at_ + options_.header_timeout
                                  : Clock::now() + options_.header_timeout;
  ReadHeader();
}

void Session::ReadHeader() {
  phase_ = Phase::kBusy;
  started_at_ = Clock::now();
  request_ = Request{};
  request_.remote_address = remote_address_;
  version_ = 11;
  keep_alive_ = false;

  header_parser_.emplace();
  header_parser_->header_limit(static_cast<std::uint32_t>(
      std::min<size_t>(options_.header_limit, std::numeric_limits<std::uint32_t>::max())));
  // No body limit on the head parser: Beast 1.74 compares Content-Length
  // against boost::none as if it were 0, and the limit depends on what will
  // read the body anyway (checked in OnHeader).
  header_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  stream_.expires_at(head_deadline_);
  bhttp::async_read_header(stream_, buffer_, *header_parser_, Bind(&Session::OnHeader));
}

void Session::OnHeader(beast::error_code ec, size_t /*bytes*/) {
  if (ec) return OnReadError(ec);
  FillHead(header_parser_->get());
  keep_alive_ = header_parser_->get().keep_alive();

  // RFC 9112 §6.1: both framings at once is a smuggling vector. Beast already
  // refuses this combination while parsing; this keeps the rule explicit.
  if (request_.headers.count("content-length") != 0 &&
      request_.headers.count("transfer-encoding") != 0) {
    return SendError(400, "invalid_argument",
                     "malformed request: both Content-Length and Transfer-Encoding");
  }
  if (TryStream()) return;

  if (auto length = header_parser_->content_length(); length && *length > options_.body_limit) {
    return SendError(413, "too_large",
                     "request body exceeds " + std::to_string(options_.body_limit) + " bytes");
  }
  if (header_parser_->is_done()) {
    header_parser_.reset();
    return Handle(std::string());
  }

  // The body seam (see server.h): the head is known, no body byte has been
  // read. Buffered handlers get a string_body parser bounded by body_limit.
  body_parser_.emplace(std::move(*header_parser_));
  header_parser_.reset();
  body_parser_->body_limit(options_.body_limit);

  if (version_ >= 11 && IEquals(request_.Header("expect"), "100-continue")) {
    stream_.expires_after(options_.write_timeout);
    net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                     Bind(&Session::OnContinueWritten));
    return;
  }
  ReadBody();
}

void Session::OnContinueWritten(beast::error_code ec, size_t /*bytes*/) {
  if (streaming_) {
    if (ec) {
      stream_drop_ = true;
      return FinishStream(Status::Unavailable("the client went away"));
    }
    return ReadChunk();
  }
  if (ec) return Close();
  ReadBody();
}

// Called from OnHeader before any body byte is read. Returns false when the
// request is not for a streaming route (the buffered path then handles it,
// including a bad target).
bool Session::TryStream() {
  if (!ParseTarget(request_.target, options_.max_query_params, &request_.path, &request_.query)
           .ok()) {
    request_.path.clear();
    request_.query.clear();
    return false;
  }
  Router::StreamingRoute route = core_->router().FindStreaming(request_);
  if (route.handler == nullptr) {
    request_.path.clear();
    request_.query.clear();
    request_.path_params.clear();
    return false;
  }
  stream_limit_ = route.body_limit;
  if (auto length = header_parser_->content_length(); length && *length > stream_limit_) {
    header_parser_.reset();
    SendError(413, "too_large",
              "request body exceeds " + std::to_string(stream_limit_) + " bytes");
    return true;
  }
  HeadDecision decision;
  try {
    decision = (*route.handler)(request_);
  } catch (...) {
    decision = ErrorResponse(500, "internal", "internal error");
  }
  if (auto* later = std::get_if<DeferredHead>(&decision)) {
    // No body byte is read and no timer runs until the decision arrives: the
    // work behind it has its own bound (the store's busy timeout).
    stream_.expires_never();
    awaiting_head_ = true;
    try {
      later->start(CompletionOnStrand<HeadDecision>(&Session::OnHeadDecided));
    } catch (...) {
      // Whatever the completion does later finds awaiting_head_ false.
      awaiting_head_ = false;
      ApplyHeadDecision(ErrorResponse(500, "internal", "internal error"));
    }
    return true;
  }
  ApplyHeadDecision(std::move(decision));
  return true;
}

void Session::OnHeadDecided(HeadDecision decision) {
  if (!awaiting_head_) return;
  awaiting_head_ = false;
  if (std::holds_alternative<DeferredHead>(decision))
    decision = ErrorResponse(500, "internal", "internal error");
  ApplyHeadDecision(std::move(decision));
}

void Session::ApplyHeadDecision(HeadDecision decision) {
  if (auto* response = std::get_if<Response>(&decision)) {
    // Refused from the head: the body is never read, so the connection
    // cannot carry another request (unless there is no body at all).
    const bool no_body = header_parser_->is_done();
    header_parser_.reset();
    return Send(std::move(*response), /*close=*/!no_body || !keep_alive_, /*linger=*/!no_body);
  }
  consumer_ = std::get<std::shared_ptr<BodyConsumer>>(std::move(decision));
  if (!consumer_) {
    header_parser_.reset();
    return SendError(500, "internal", "internal error");
  }
  StartStream();
}

void Session::StartStream() {
  streaming_ = true;
  stream_complete_ = false;
  stream_drop_ = false;
  awaiting_ready_ = false;
  awaiting_done_ = false;
  if (header_parser_->is_done()) {  // no body at all
    header_parser_.reset();
    stream_complete_ = true;
    return FinishStream(Status::Ok());
  }
  stream_parser_.emplace(std::move(*header_parser_));
  header_parser_.reset();
  stream_parser_->body_limit(stream_limit_);
  chunk_.resize(kStreamChunk);
  if (version_ >= 11 && IEquals(request_.Header("expect"), "100-continue")) {
    stream_.expires_after(options_.write_timeout);
    net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                     Bind(&Session::OnContinueWritten));
    return;
  }
  ReadChunk();
}

void Session::ReadChunk() {
  auto& body = stream_parser_->get().body();
  body.data = chunk_.data();
  body.size = chunk_.size();
  body.more = true;
  // An inactivity bound per read: the time a slow consumer takes is not the
  // client's fault, and a large upload takes longer than any fixed total.
  stream_.expires_after(options_.body_timeout);
  bhttp::async_read(stream_, buffer_, *stream_parser_, Bind(&Session::OnChunk));
}

void Session::OnChunk(beast::error_code ec, size_t /*bytes*/) {
  if (ec == bhttp::error::need_buffer) ec = {};
  if (ec) {
    if (ec == bhttp::error::body_limit) {
      return FinishStream(Status::TooLarge("request body exceeds " +
                                           std::to_string(stream_limit_) + " bytes"));
    }
    if (ec.category() == HttpErrorCategory() && ec != bhttp::error::end_of_stream &&
        ec != bhttp::error::partial_message) {
      return FinishStream(Status::InvalidArgument("malformed request: " + ec.message()));
    }
    // Peer gone, reset, or body_timeout (the stream has closed the socket).
    stream_drop_ = true;
    return FinishStream(Status::Unavailable(ec == beast::error::timeout
                                                ? "the request body timed out"
                                                : "the client went away mid-body"));
  }
  stream_.expires_never();  // nothing is read while the consumer works
  const size_t n = chunk_.size() - stream_parser_->get().body().size;
  stream_complete_ = stream_parser_->is_done();
  if (n == 0) {
    if (stream_complete_) return FinishStream(Status::Ok());
    return ReadChunk();
  }
  awaiting_ready_ = true;
  auto self = shared_from_this();
  auto ready = [self] {
    net::post(self->stream_.get_executor(), [self] { self->Guard([&] { self->OnReady(); }); });
  };
  try {
    consumer_->Consume(std::string_view(chunk_.data(), n), std::move(ready));
  } catch (...) {
    awaiting_ready_ = false;
    consumer_.reset();  // its callbacks may hold the session
    Close();
  }
}

void Session::OnReady() {
  if (!awaiting_ready_) return;  // a second call is ignored
  awaiting_ready_ = false;
  if (!consumer_) return;
  if (stream_complete_) return FinishStream(Status::Ok());
  ReadChunk();
}

void Session::FinishStream(Status status) {
  stream_.expires_never();
  stream_parser_.reset();
  if (!status.ok()) stream_complete_ = false;
  awaiting_done_ = true;
  auto self = shared_from_this();
  auto done = [self](Response response) {
    net::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
      self->Guard([&] { self->OnConsumerDone(std::move(response)); });
    });
  };
  try {
    consumer_->Finish(std::move(status), std::move(done));
  } catch (...) {
    awaiting_done_ = false;
    consumer_.reset();
    Close();
  }
}

void Session::OnConsumerDone(Response response) {
  if (!awaiting_done_) return;
  awaiting_done_ = false;
  streaming_ = false;
  // Dropping the consumer here, on the strand, breaks the cycle through the
  // callbacks it holds; it may join a worker thread that is just returning.
  consumer_.reset();
  chunk_.clear();
  chunk_.shrink_to_fit();
  if (stream_drop_) return Close();
  if (stream_complete_) {
    return Send(std::move(response), /*close=*/!keep_alive_, /*linger=*/false);
  }
  // Cut short (too large, malformed): the rest of the body is unread.
  Send(std::move(response), /*close=*/true, /*linger=*/true);
}

void Session::ReadBody() {
  stream_.expires_after(options_.body_timeout);
  bhttp::async_read(stream_, buffer_, *body_parser_, Bind(&Session::OnBody));
}

void Session::OnBody(beast::error_code ec, size_t /*bytes*/) {
  if (ec) return OnReadError(ec);
  std::string body = std::move(body_parser_->get().body());
  body_parser_.reset();
  Handle(std::move(body));
}

void Session::OnReadError(beast::error_code ec) {
  header_parser_.reset();
  body_parser_.reset();
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    return SendError(431, "too_large",
                     "request head exceeds " + std::to_string(options_.header_limit) + " bytes");
  }
  if (ec == bhttp::error::body_limit) {
    return SendError(413, "too_large",
                     "request body exceeds " + std::to_string(options_.body_limit) + " bytes");
  }
  // The peer went away mid-message: there is nobody to answer.
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return Close();
  if (ec.category() == HttpErrorCategory()) {
    // Beast's messages name the defect ("bad target"), never the bytes.
    return SendError(400, "invalid_argument", "malformed request: " + ec.message());
  }
  // Timeouts (the stream has closed the socket), resets, cancellation.
  Close();
}

void Session::FillHead(const bhttp::request_header<>& head) {
  version_ = head.version();
  request_.method = Str(head.method_string());
  request_.target = Str(head.target());
  for (const auto& field : head) {
    std::string value = Str(field.value());
    auto [it, inserted] = request_.headers.try_emplace(
        AsciiLower(std::string_view(field.name_string().data(), field.name_string().size())),
        value);
    if (!inserted) {
      it->second += ", ";
      it->second += value;
    }
  }
}

void Session::Handle(std::string body) {
  request_.body = std::move(body);
  Response response;
  try {
    Status status =
        ParseTarget(request_.target, options_.max_query_params, &request_.path, &request_.query);
    if (status.ok()) {
      response = core_->router().DispatchDeferred(request_);
    } else {
      response = ErrorResponse(400, "invalid_argument", status.message());
    }
  } catch (...) {
    response = ErrorResponse(500, "internal", "internal error");
  }
  if (response.deferred) return Defer(std::move(response.deferred));
  Send(std::move(response), /*close=*/!keep_alive_, /*linger=*/false);
}

void Session::Defer(std::function<void(std::function<void(Response)>)> deferred) {
  awaiting_deferred_ = true;
  try {
    deferred(CompletionOnStrand<Response>(&Session::OnDeferredDone));
  } catch (...) {
    // Whatever the completion does later finds awaiting_deferred_ false.
    awaiting_deferred_ = false;
    Send(ErrorResponse(500, "internal", "internal error"), /*close=*/!keep_alive_, /*linger=*/false);
  }
}

void Session::OnDeferredDone(Response response) {
  if (!awaiting_deferred_) return;
  awaiting_deferred_ = false;
  if (response.deferred) response = ErrorResponse(500, "internal", "internal error");
  Send(std::move(response), /*close=*/!keep_alive_, /*linger=*/false);
}

void Session::SendError(int status, std::string_view code, std::string message) {
  // The stream position is unknown after a framing error, or the body was not
  // read: the connection cannot carry another request.
  Send(ErrorResponse(status, code, message), /*close=*/true, /*linger=*/true);
}

void Session::Send(Response response, bool close, bool linger) {
  phase_ = Phase::kBusy;
  close_after_write_ = close || core_->stopping();
  linger_ = linger;
  head_request_ = request_.method == "HEAD";
  if (!BuildMessage(response)) {
    // A handler produced something unsendable: a bug, answered like one.
    response = ErrorResponse(500, "internal", "internal error");
    if (!BuildMessage(response)) return Close();
  }
  response_ = std::move(response);
  stream_.expires_after(options_.write_timeout);
  if (shared_) return bhttp::async_write(stream_, shared_res_, Bind(&Session::OnWrite));
  bhttp::async_write(stream_, res_, Bind(&Session::OnWrite));
}

bool Session::BuildMessage(Response& response) {
  if (response.status < 200 || response.status > 599) return false;
  if (!ValidFieldValue(response.content_type)) return false;
  for (const auto& [name, value] : response.headers) {
    if (!ValidFieldName(name) || !ValidFieldValue(value)) return false;
  }
  if (response.status == 204 || response.status == 304) {
    response.body.clear();
    response.shared_body.reset();
  }
  auto head = [&](auto& message) {
    message = {};
    message.version(version_);
    message.result(static_cast<unsigned>(response.status));
    for (const auto& [name, value] : response.headers) {
      if (!IsFramingHeader(name)) message.insert(name, value);
    }
    // After the handler's headers, so that the policy always wins.
    message.set(bhttp::field::content_type, response.content_type);
    message.set(bhttp::field::cache_control, "no-store");
    message.set("X-Content-Type-Options", "nosniff");
    message.keep_alive(!close_after_write_);
  };
  shared_ = response.shared_body != nullptr;
  if (shared_) {
    head(shared_res_);
    const std::string& body = *response.shared_body;
    if (head_request_) {
      shared_res_.content_length(body.size());
    } else {
      shared_res_.body() = bhttp::span_body<const char>::value_type(body.data(), body.size());
      shared_res_.prepare_payload();
    }
    return true;
  }
  head(res_);
  if (head_request_) {
    res_.content_length(response.body.size());  // body stays in `response`
  } else {
    res_.body() = std::move(response.body);
    res_.prepare_payload();
  }
  return true;
}

void Session::OnWrite(beast::error_code ec, size_t /*bytes*/) {
  if (shared_) {
    shared_res_ = {};
    shared_ = false;
  } else if (!head_request_) {
    response_.body = std::move(res_.body());
  }
  res_ = {};
  NotifyComplete();
  request_ = Request{};
  response_ = Response{};
  if (ec) return Close();
  if (close_after_write_) return linger_ ? Linger() : Shutdown();
  first_request_ = false;
  WaitForRequest();
}

void Session::NotifyComplete() {
  const auto& hook = options_.on_complete;
  if (!hook) return;
  request_.body.clear();
  for (std::string_view name : kCredentialHeaders) request_.headers.erase(std::string(name));
  auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_at_);
  try {
    hook(request_, response_, elapsed);
  } catch (...) {
    // An observer's failure must not take the connection down.
  }
}

void Session::Shutdown() {
  phase_ = Phase::kClosing;
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  // The socket closes when the last handler releases the session.
}

void Session::Linger() {
  phase_ = Phase::kClosing;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) return;
  if (core_->stopping()) return;
  linger_budget_ = kLingerBytes;
  buffer_.consume(buffer_.size());
  stream_.expires_after(std::min<std::chrono::milliseconds>(kLingerTime, options_.header_timeout));
  DrainSome();
}

void Session::DrainSome() {
  stream_.async_read_some(buffer_.prepare(kReadSize), Bind(&Session::OnDrain));
}

void Session::OnDrain(beast::error_code ec, size_t bytes) {
  if (ec || bytes >= linger_budget_) return;  // done: the session ends here
  linger_budget_ -= bytes;
  DrainSome();
}

void Session::Close() {
  phase_ = Phase::kClosing;
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
}

// ---- ServerCore -------------------------------------------------------------

namespace {
int ThreadCount(int requested) {
  if (requested > 0) return requested;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}
}  // namespace

ServerCore::ServerCore(ServerOptions options, const Router& router)
    : options_(std::move(options)),
      router_(router),
      thread_count_(ThreadCount(options_.threads)),
      ioc_(thread_count_),
      acceptor_(net::make_strand(ioc_)),
      accept_retry_timer_(acceptor_.get_executor()),
      drain_deadline_(acceptor_.get_executor()) {}

ServerCore::~ServerCore() {
  Stop();
  Wait();
  {
    std::unique_lock<std::mutex> lock(deferred_mu_);
    deferred_released_.wait(lock, [this] { return deferred_pending_ == 0; });
  }
  std::lock_guard<std::mutex> lock(mu_);
  io_stopped_ = true;
}

Status ServerCore::Listen(const std::string& host, uint16_t port) {
  const std::string where = HostPort(host, port);
  std::lock_guard<std::mutex> lock(mu_);
  if (listening_ || stop_requested_) {
    return Status::Internal("listen on " + where + ": server already listening or stopped");
  }
  beast::error_code ec;
  tcp::endpoint endpoint;
  net::ip::address address = net::ip::make_address(host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, port);
  } else {
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty()) {
      return Status::InvalidArgument("listen on " + where + ": cannot resolve host" +
                                     (ec ? ": " + ec.message() : std::string()));
    }
    endpoint = results.begin()->endpoint();
  }

  auto fail = [&](const char* step) {
    beast::error_code ignored;
    acceptor_.close(ignored);
    return Status::IoError("listen on " + where + ": " + step + ": " + ec.message());
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  // Lets a restarted gateway bind while old connections sit in TIME_WAIT.
  acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (ec) return fail("set_option");
  acceptor_.bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  tcp::endpoint local = acceptor_.local_endpoint(ec);
  if (ec) return fail("local_endpoint");
  port_.store(local.port());
  listening_ = true;
  return Status::Ok();
}

void ServerCore::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!listening_ || started_ || stop_requested_) return;
    started_ = true;
  }
  net::post(acceptor_.get_executor(), [this] { DoAccept(); });
  std::lock_guard<std::mutex> lock(join_mu_);
  for (int i = 0; i < thread_count_; ++i) threads_.emplace_back([this] { RunLoop(); });
}

void ServerCore::RunLoop() {
  for (;;) {
    try {
      ioc_.run();
      return;
    } catch (...) {
      // Every handler is guarded; should one still throw, keep this thread
      // serving rather than silently lose it.
    }
  }
}

void ServerCore::DoAccept() {
  if (stopping()) return;
  acceptor_.async_accept(
      net::make_strand(ioc_),
      [this](beast::error_code ec, SessionSocket socket) { OnAccept(ec, std::move(socket)); });
}

void ServerCore::OnAccept(beast::error_code ec, SessionSocket socket) {
  if (ec == net::error::operation_aborted || stopping()) return;
  if (ec) {
    // E.g. out of file descriptors: back off rather than spin on accept.
    accept_retry_timer_.expires_after(kAcceptRetry);
    accept_retry_timer_.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec) DoAccept();
    });
    return;
  }
  std::shared_ptr<Session> session;
  try {
    std::lock_guard<std::mutex> lock(mu_);
    // Registered under mu_ so that Stop() either sees this session or the
    // session sees stop_requested_.
    if (!stop_requested_ && sessions_.size() < options_.max_connections) {
      uint64_t id = next_session_id_++;
      session = std::make_shared<Session>(this, std::move(socket), id);
      sessions_.emplace(id, session);
    }
  } catch (...) {
    session.reset();
  }
  // Refused connections are closed when `socket` goes out of scope.
  if (session) session->Run();
  DoAccept();
}

void ServerCore::BeginDeferred() {
  std::lock_guard<std::mutex> lock(deferred_mu_);
  ++deferred_pending_;
}

void ServerCore::EndDeferred() {
  std::lock_guard<std::mutex> lock(deferred_mu_);
  if (--deferred_pending_ == 0) deferred_released_.notify_all();
}

void ServerCore::Unregister(uint64_t id) {
  bool drained = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(id);
    if (stop_requested_ && acceptor_closed_ && sessions_.empty() && !io_stopped_) {
      io_stopped_ = true;
      drained = true;
    }
  }
  if (drained) ioc_.stop();
}

void ServerCore::Stop() {
  std::vector<std::shared_ptr<Session>> live;
  bool initiate = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stop_requested_) {
      stop_requested_ = true;
      stopping_.store(true, std::memory_order_release);
      initiate = true;
      if (!started_) {
        // Nothing runs on the io_context: close directly.
        beast::error_code ignored;
        acceptor_.close(ignored);
        acceptor_closed_ = true;
        io_stopped_ = true;
        return;
      }
      for (auto& [id, weak] : sessions_) {
        if (auto session = weak.lock()) live.push_back(std::move(session));
      }
    }
  }
  // Outside mu_: dropping what may be the last reference runs ~Session, which
  // takes mu_.
  if (initiate) {
    for (auto& session : live) session->NotifyStop();
    live.clear();
    net::post(acceptor_.get_executor(), [this] { CloseAcceptor(); });
  }
  if (!OnServerThread()) Wait();
}

void ServerCore::CloseAcceptor() {
  beast::error_code ignored;
  acceptor_.close(ignored);
  accept_retry_timer_.cancel();
  drain_deadline_.expires_after(options_.shutdown_timeout);
  drain_deadline_.async_wait([this](beast::error_code ec) {
    if (!ec) StopIoContext();
  });
  bool drained = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    acceptor_closed_ = true;
    if (sessions_.empty() && !io_stopped_) {
      io_stopped_ = true;
      drained = true;
    }
  }
  if (drained) ioc_.stop();
}

void ServerCore::StopIoContext() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (io_stopped_) return;
    io_stopped_ = true;
  }
  // Sessions still open are abandoned; they are destroyed with ioc_.
  ioc_.stop();
}

void ServerCore::Wait() {
  if (OnServerThread()) return;  // joining ourselves would deadlock
  std::lock_guard<std::mutex> lock(join_mu_);
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

}  // namespace detail

// ---- Server -----------------------------------------------------------------

Server::Server(ServerOptions options, const Router& router)
    : core_(std::make_unique<detail::ServerCore>(std::move(options), router)) {}

Server::~Server() = default;  // ~ServerCore stops and joins

Status Server::Listen(const std::string& host, uint16_t port) { return core_->Listen(host, port); }
uint16_t Server::port() const { return core_->port(); }
void Server::Start() { core_->Start(); }
void Server::Stop() { core_->Stop(); }
void Server::Wait() { core_->Wait(); }

}  // namespace gw::http
