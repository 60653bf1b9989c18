#include "tests/support/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace gw::testing {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::string Str(beast::string_view s) { return std::string(s.data(), s.size()); }

std::string ToLower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

Status IoStatus(const char* step, beast::error_code ec) {
  return Status::IoError(std::string(step) + ": " + ec.message());
}

}  // namespace

std::string ClientResponse::Header(std::string_view lower_name) const {
  auto it = headers.find(std::string(lower_name));
  return it == headers.end() ? std::string() : it->second;
}

struct HttpClient::Impl {
  Impl(uint16_t p, std::chrono::milliseconds t) : port(p), timeout(t) {}

  // Runs one asynchronous operation to completion with a deadline. Async
  // operations are used (rather than the blocking ones) because only they
  // honour tcp_stream's timeouts.
  template <class Initiate>
  beast::error_code Run(std::chrono::milliseconds limit, Initiate&& initiate) {
    beast::error_code result = net::error::timed_out;
    ioc.restart();
    stream.expires_after(limit);
    initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.run();
    return result;
  }

  uint16_t port;
  std::chrono::milliseconds timeout;
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
};

HttpClient::HttpClient(uint16_t port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(port, timeout)) {}

HttpClient::~HttpClient() = default;

Status HttpClient::Connect() {
  Close();
  impl_->buffer.consume(impl_->buffer.size());
  tcp::endpoint endpoint(net::ip::make_address_v4("127.0.0.1"), impl_->port);
  beast::error_code ec = impl_->Run(impl_->timeout, [&](auto handler) {
    impl_->stream.async_connect(endpoint, std::move(handler));
  });
  if (ec) return IoStatus("connect", ec);
  return Status::Ok();
}

Status HttpClient::SendRaw(std::string_view bytes) {
  beast::error_code ec = impl_->Run(impl_->timeout, [&](auto handler) {
    net::async_write(impl_->stream, net::buffer(bytes.data(), bytes.size()), std::move(handler));
  });
  if (ec) return IoStatus("write", ec);
  return Status::Ok();
}

Result<ClientResponse> HttpClient::Send(
    std::string_view method, std::string_view target, std::string_view body,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  bhttp::request<bhttp::string_body> request;
  request.version(11);
  request.method_string(beast::string_view(method.data(), method.size()));
  request.target(beast::string_view(target.data(), target.size()));
  request.set(bhttp::field::host, "127.0.0.1:" + std::to_string(impl_->port));
  for (const auto& [name, value] : headers) request.insert(name, value);
  if (!body.empty()) {
    request.body() = std::string(body);
    request.prepare_payload();
  }
  beast::error_code ec = impl_->Run(impl_->timeout, [&](auto handler) {
    bhttp::async_write(impl_->stream, request, std::move(handler));
  });
  if (ec) return IoStatus("write", ec);
  return ReadResponse(method == "HEAD");
}

Result<ClientResponse> HttpClient::ReadResponse(bool head) {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64u << 20);
  parser.skip(head);
  beast::error_code ec = impl_->Run(impl_->timeout, [&](auto handler) {
    bhttp::async_read(impl_->stream, impl_->buffer, parser, std::move(handler));
  });
  if (ec) return IoStatus("read", ec);
  const auto& message = parser.get();
  ClientResponse response;
  response.status = static_cast<int>(message.result_int());
  for (const auto& field : message) {
    std::string value = Str(field.value());
    auto [it, inserted] = response.headers.try_emplace(ToLower(Str(field.name_string())), value);
    if (!inserted) it->second += ", " + value;
  }
  response.body = message.body();
  response.keep_alive = message.keep_alive();
  return response;
}

bool HttpClient::WaitForClose(std::chrono::milliseconds within) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + within;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    size_t received = 0;
    beast::error_code ec = impl_->Run(left, [&](auto handler) {
      impl_->stream.async_read_some(
          impl_->buffer.prepare(4096),
          [&received, handler = std::move(handler)](beast::error_code read_ec, size_t n) mutable {
            received = n;
            handler(read_ec, n);
          });
    });
    if (ec == beast::error::timeout || ec == net::error::timed_out) return false;
    if (ec) return true;  // EOF or reset: the server closed
    impl_->buffer.commit(received);
    impl_->buffer.consume(impl_->buffer.size());
  }
}

void HttpClient::Close() {
  beast::error_code ignored;
  impl_->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  impl_->stream.socket().close(ignored);
}

Result<ClientResponse> SendWithToken(uint16_t port, std::string_view method,
                                     std::string_view target, const std::string& token,
                                     std::vector<std::pair<std::string, std::string>> headers) {
  HttpClient client(port, std::chrono::milliseconds(20000));
  GW_RETURN_IF_ERROR(client.Connect());
  if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
  return client.Send(method, target, {}, headers);
}

Result<ClientResponse> GetWithToken(uint16_t port, std::string_view target,
                                    const std::string& token,
                                    std::vector<std::pair<std::string, std::string>> headers) {
  return SendWithToken(port, "GET", target, token, std::move(headers));
}

}  // namespace gw::testing
