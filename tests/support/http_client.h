// HttpClient: a small synchronous HTTP/1.1 client for tests, over Beast.
//
// It talks to 127.0.0.1 only and never reconnects on its own, so a test can
// tell whether a connection was kept alive: after the server closes, every
// call fails until Connect() is called again. Every operation is bounded by
// the client's timeout, so a server bug fails a test instead of hanging it.
// SendRaw() and ReadResponse() let tests send malformed or partial requests
// and pipeline several requests.
//
// Thread-safety: none; use one client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/common/status.h"

namespace gw::testing {

struct ClientResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names; repeats joined with ", "
  std::string body;
  bool keep_alive = false;  // the server did not announce Connection: close

  // "" if absent.
  std::string Header(std::string_view lower_name) const;
};

// One request without a body on a fresh connection to 127.0.0.1:port with a
// bearer token (none if empty); an error status if the exchange itself fails.
class HttpClient;
Result<ClientResponse> SendWithToken(uint16_t port, std::string_view method,
                                     std::string_view target, const std::string& token,
                                     std::vector<std::pair<std::string, std::string>> headers = {});
Result<ClientResponse> GetWithToken(uint16_t port, std::string_view target, const std::string& token,
                                    std::vector<std::pair<std::string, std::string>> headers = {});

class HttpClient {
 public:
  explicit HttpClient(uint16_t port,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));
  ~HttpClient();

  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Connects (again) to 127.0.0.1:port, dropping any previous connection.
  Status Connect();

  // Sends one request and reads its response. Adds Host, and Content-Length
  // when `body` is not empty; `headers` are added as given.
  Result<ClientResponse> Send(std::string_view method, std::string_view target,
                              std::string_view body = {},
                              const std::vector<std::pair<std::string, std::string>>& headers = {});
  Result<ClientResponse> Get(std::string_view target) { return Send("GET", target); }

  // Writes bytes as they are.
  Status SendRaw(std::string_view bytes);

  // Reads one response; `head` for the answer to a HEAD request (no body).
  Result<ClientResponse> ReadResponse(bool head = false);

  // True if the server closes the connection within `within` (anything it
  // sends first is discarded); false if it is still open then.
  bool WaitForClose(std::chrono::milliseconds within);

  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gw::testing
