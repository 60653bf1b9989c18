#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "gateway/http/server.h"
#include "tests/support/http_client.h"

namespace {

using namespace std::chrono_literals;
using gw::http::Request;
using gw::http::Response;
using gw::http::Router;
using gw::http::Server;
using gw::http::ServerOptions;
using gw::testing::ClientResponse;
using gw::testing::HttpClient;
using Clock = std::chrono::steady_clock;

// Signals once a slow handler has started, so a test can act mid-request.
struct Latch {
  std::mutex mu;
  std::condition_variable cv;
  bool set = false;
  void Set() {
    std::lock_guard<std::mutex> lock(mu);
    set = true;
    cv.notify_all();
  }
  bool WaitFor(std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, limit, [this] { return set; });
  }
};

ServerOptions FastOptions() {
  ServerOptions options;
  options.threads = 2;
  options.header_timeout = 2000ms;
  options.idle_timeout = 2000ms;
  options.body_timeout = 2000ms;
  options.write_timeout = 2000ms;
  options.shutdown_timeout = 2000ms;
  options.body_limit = 1024;
  options.header_limit = 2048;
  options.max_query_params = 8;
  return options;
}

struct TestServer {
  explicit TestServer(ServerOptions options = FastOptions()) {
    router.Add("GET", "/hello", [](const Request&) {
      Response response;
      response.body = R"({"hello":"world"})";
      return response;
    });
    router.Add("GET", "/echo", [](const Request& request) {
      nlohmann::json query = nlohmann::json::array();
      for (const auto& [key, value] : request.query) query.push_back({key, value});
      Response response;
      response.body = nlohmann::json{{"method", request.method},
                                     {"path", request.path},
                                     {"target", request.target},
                                     {"query", query},
                                     {"remote", request.remote_address}}
                          .dump();
      return response;
    });
    router.Add("POST", "/echo", [](const Request& request) {
      Response response;
      response.content_type = "text/plain";
      response.body = request.body;
      return response;
    });
    router.Add("GET", "/items/{id}", [](const Request& request) {
      Response response;
      response.body = nlohmann::json{{"id", request.path_params.at("id")}}.dump();
      return response;
    });
    router.Add("GET", "/throw",
               [](const Request&) -> Response { throw std::runtime_error("secret-value-123"); });
    router.Add("GET", "/bad-header", [](const Request&) {
      Response response;
      response.headers.emplace_back("X-Injected", "a\r\nSet-Cookie: x=y");
      return response;
    });
    router.Add("GET", "/slow", [this](const Request&) {
      slow_started.Set();
      std::this_thread::sleep_for(300ms);
      Response response;
      response.body = R"({"slow":true})";
      return response;
    });
    server = std::make_unique<Server>(std::move(options), router);
    gw::Status status = server->Listen("127.0.0.1", 0);
    REQUIRE(status.ok());
    REQUIRE(server->port() != 0);
    server->Start();
  }

  uint16_t port() const { return server->port(); }

  Router router;
  Latch slow_started;
  std::unique_ptr<Server> server;
};

nlohmann::json Json(const ClientResponse& response) { return nlohmann::json::parse(response.body); }

std::string ErrorCode(const ClientResponse& response) {
  return Json(response).at("error").at("code").get<std::string>();
}

}  // namespace

TEST_CASE("Server answers a GET with the policy headers", "[http][server]") {
  TestServer server;
  HttpClient client(server.port());
  REQUIRE(client.Connect().ok());

  auto response = client.Get("/hello");
  REQUIRE(response.ok());
  CHECK(response->status == 200);
  CHECK(response->body == R"({"hello":"world"})");
  CHECK(response->Header("content-type") == "application/json");
  CHECK(response->Header("content-length") == std::to_string(response->body.size()));
  CHECK(response->Header("cache-control") == "no-store");
  CHECK(response->Header("x-content-type-options") == "nosniff");
  CHECK(response->keep_alive);

  SECTION("HEAD keeps Content-Length and drops the body") {
    auto head = client.Send("HEAD", "/hello");
    REQUIRE(head.ok());
    CHECK(head->status == 200);
    CHECK(head->body.empty());
    CHECK(head->Header("content-length") == std::to_string(response->body.size()));
    auto after = client.Get("/hello");  // the connection is still in sync
    REQUIRE(after.ok());
    CHECK(after->status == 200);
  }
  SECTION("a handler cannot inject headers") {
    auto bad = client.Get("/bad-header");
    REQUIRE(bad.ok());
    CHECK(bad->status == 500);
    CHECK(bad->Header("set-cookie").empty());
  }
}

TEST_CASE("Server decodes the query and path parameters", "[http][server]") {
  TestServer server;
  HttpClient client(server.port());
  REQUIRE(client.Connect().ok());

  auto response = client.Get("/echo?a=1&b=hello+world&c=%C3%A9&d");
  REQUIRE(response.ok());
  REQUIRE(response->status == 200);
  auto doc = Json(*response);
  CHECK(doc["path"] == "/echo");
  CHECK(doc["target"] == "/echo?a=1&b=hello+world&c=%C3%A9&d");
  CHECK(doc["remote"] == "127.0.0.1");
  CHECK(doc["query"] ==
        nlohmann::json::parse(R"([["a","1"],["b","hello world"],["c","é"],["d",""]])"));

  auto item = client.Get("/items/a%20b");
  REQUIRE(item.ok());
  CHECK(Json(*item)["id"] == "a b");

  SECTION("bad percent-encoding is a 400 naming the position, and keeps the connection") {
    auto bad = client.Get("/echo?x=1&secret=%zz");
    REQUIRE(bad.ok());
    CHECK(bad->status == 400);
    CHECK(ErrorCode(*bad) == "invalid_argument");
    CHECK(bad->body.find("query parameter 2") != std::string::npos);
    CHECK(bad->body.find("%zz") == std::string::npos);
    CHECK(bad->keep_alive);
    auto next = client.Get("/hello");
    REQUIRE(next.ok());
    CHECK(next->status == 200);
  }
  SECTION("too many query parameters is a 400") {
    auto bad = client.Get("/echo?a&b&c&d&e&f&g&h&i");
    REQUIRE(bad.ok());
    CHECK(bad->status == 400);
  }
}

TEST_CASE("Server answers unknown paths and methods with JSON errors", "[http][server]") {
  TestServer server;
  HttpClient client(server.port());
  REQUIRE(client.Connect().ok());

  auto missing = client.Get("/nope");
  REQUIRE(missing.ok());
  CHECK(missing->status == 404);
  CHECK(missing->Header("content-type") == "application/json");
  CHECK(ErrorCode(*missing) == "not_found");

  auto wrong = client.Send("DELETE", "/hello");
  REQUIRE(wrong.ok());
  CHECK(wrong->status == 405);
  CHECK(wrong->Header("allow") == "GET, HEAD");
}

TEST_CASE("Server refuses an oversized body by its Content-Length", "[http][server]") {
  TestServer server;
  HttpClient client(server.port());
  REQUIRE(client.Connect().ok());

  auto small = client.Send("POST", "/echo", std::string(1000, 'x'));
  REQUIRE(small.ok());
  CHECK(small->status == 200);
  CHECK(small->body.size() == 1000);

  // Only the head is sent: the server must answer without waiting for the body.
  REQUIRE(client
              .SendRaw("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Content-Length: 999999999\r\n\r\n")
              .ok());
  auto refused = client.ReadResponse();
  REQUIRE(refused.ok());
  CHECK(refused->status == 413);
  CHECK(ErrorCode(*refused) == "too_large");
  CHECK_FALSE(refused->keep_alive);
  CHECK(client.WaitForClose(1500ms));

  SECTION("a chunked body over the limit is cut off") {
    REQUIRE(client.Connect().ok());
    std::string chunk(2000, 'y');
    REQUIRE(
        client
            .SendRaw("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "7d0\r\n" +
                     chunk + "\r\n0\r\n\r\n")
            .ok());
    auto cut = client.ReadResponse();
    REQUIRE(cut.ok());
    CHECK(cut->status == 413);
  }
}

TEST_CASE("Server answers a malformed request with 400 and keeps serving", "[http][server]") {
  TestServer server;
  {
    HttpClient client(server.port());
    REQUIRE(client.Connect().ok());
    REQUIRE(client.SendRaw("GARBAGE\r\n\r\n").ok());
    auto response = client.ReadResponse();
    REQUIRE(response.ok());
    CHECK(response->status == 400);
    CHECK(ErrorCode(*response) == "invalid_argument");
    CHECK(client.WaitForClose(1500ms));
  }
  {
    HttpClient client(server.port());
    REQUIRE(client.Connect().ok());
    REQUIRE(client
                .SendRaw("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'z') +
                         "\r\n\r\n")
                .ok());
    auto response = client.ReadResponse();
    REQUIRE(response.ok());
    CHECK(response->status == 431);
  }
  HttpClient client(server.port());
  REQUIRE(client.Connect().ok());
  auto response = client.Get("/hello");
  REQUIRE(response.ok());
  CHECK(response->status == 200);
}

TEST_CASE("Server keeps connections alive and handles pipelining", "[http][server]") {
  TestServer server;
  HttpClient client(server.port());
  REQUIRE(client.Connect().ok());
  // The client never reconnects by itself: success proves one connection.
  for (int i = 0; i < 5; ++i) {
    auto response = client.Get("/items/" + std::to_string(i));
    REQUIRE(response.ok());
    CHECK(response->status == 200);
    CHECK(response->keep_alive);
    CHECK(Json(*response)["id"] == std::to_string(i));
  }

  REQUIRE(client
              .SendRaw("GET /items/a HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /items/b HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /items/c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
              .ok());
  for (const char* id : {"a", "b", "c"}) {
    auto response = client.ReadResponse();
    REQUIRE(response.ok());
    CHECK(Json(*response)["id"] == id);
  }
  CHECK(client.WaitForClose(1500ms));
}

TEST_CASE("Server survives a throwing handler", "[http][server]") {
  TestServer server;
  HttpClient client(server.port());
  REQUIRE(client.Connect().ok());
  auto thrown = client.Get("/throw");
  REQUIRE(thrown.ok());
  CHECK(thrown->status == 500);
  CHECK(ErrorCode(*thrown) == "internal");
  CHECK(thrown->body.find("secret-value-123") == std::string::npos);

  auto after = client.Get("/hello");
  REQUIRE(after.ok());
  CHECK(after->status == 200);
}

TEST_CASE("Server reports completed requests without credentials or bodies", "[http][server]") {
  struct Seen {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::pair<Request, int>> entries;
  };
  auto seen = std::make_shared<Seen>();
  ServerOptions options = FastOptions();
  options.on_complete = [seen](const Request& request, const Response& response,
                               std::chrono::microseconds) {
    std::lock_guard<std::mutex> lock(seen->mu);
    seen->entries.emplace_back(request, response.status);
    seen->cv.notify_all();
    throw std::runtime_error("a broken hook must not matter");
  };
  TestServer server(options);
  HttpClient client(server.port());
  REQUIRE(client.Connect().ok());
  auto response = client.Send("POST", "/echo", "payload",
                              {{"Authorization", "Bearer t0ken"}, {"X-Trace", "abc"}});
  REQUIRE(response.ok());
  CHECK(response->body == "payload");
  auto second = client.Get("/nope");
  REQUIRE(second.ok());

  // The hook runs after the write completes, which may be after the client
  // has read the response.
  std::unique_lock<std::mutex> lock(seen->mu);
  seen->cv.wait_for(lock, 2000ms, [&] { return seen->entries.size() == 2; });
  REQUIRE(seen->entries.size() == 2);
  const Request& logged = seen->entries[0].first;
  CHECK(seen->entries[0].second == 200);
  CHECK(logged.method == "POST");
  CHECK(logged.path == "/echo");
  CHECK(logged.body.empty());
  CHECK(logged.Header("authorization").empty());
  CHECK(logged.Header("x-trace") == "abc");
  CHECK(seen->entries[1].second == 404);
}

TEST_CASE("Server stops gracefully while clients are connected", "[http][server]") {
  TestServer server;
  HttpClient idle(server.port());
  REQUIRE(idle.Connect().ok());
  REQUIRE(idle.Get("/hello").ok());  // now idle in keep-alive

  HttpClient busy(server.port());
  REQUIRE(busy.Connect().ok());
  REQUIRE(busy.SendRaw("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  REQUIRE(server.slow_started.WaitFor(2000ms));

  auto before = Clock::now();
  server.server->Stop();
  auto took = Clock::now() - before;
  CHECK(took < 1500ms);  // drained, not the shutdown_timeout

  auto response = busy.ReadResponse();  // the in-flight request was finished
  REQUIRE(response.ok());
  CHECK(response->status == 200);
  CHECK_FALSE(response->keep_alive);
  CHECK(idle.WaitForClose(500ms));

  HttpClient late(server.port());
  CHECK_FALSE(late.Connect().ok());

  server.server->Stop();  // idempotent
  server.server->Wait();
}

TEST_CASE("Server stop is bounded by shutdown_timeout", "[http][server]") {
  ServerOptions options = FastOptions();
  options.shutdown_timeout = 100ms;
  TestServer server(options);
  HttpClient slowloris(server.port());
  REQUIRE(slowloris.Connect().ok());
  REQUIRE(slowloris.SendRaw("GET /hello HTTP/1.1\r\nHost: x\r\n").ok());  // head never ends
  std::this_thread::sleep_for(50ms);

  auto before = Clock::now();
  server.server->Stop();
  auto took = Clock::now() - before;
  CHECK(took >= 80ms);
  CHECK(took < 1000ms);
}

TEST_CASE("Server closes connections that are slow to send the head", "[http][server]") {
  ServerOptions options = FastOptions();
  options.header_timeout = 200ms;
  options.idle_timeout = 200ms;
  TestServer server(options);

  HttpClient client(server.port());
  REQUIRE(client.Connect().ok());
  REQUIRE(client.SendRaw("GET /hello HTTP/1.1\r\nHost: x\r\n").ok());  // no blank line
  auto before = Clock::now();
  CHECK(client.WaitForClose(1500ms));
  CHECK(Clock::now() - before >= 100ms);

  SECTION("and idle keep-alive connections") {
    HttpClient idle(server.port());
    REQUIRE(idle.Connect().ok());
    REQUIRE(idle.Get("/hello").ok());
    CHECK(idle.WaitForClose(1500ms));
  }
  SECTION("while the server keeps serving") {
    HttpClient other(server.port());
    REQUIRE(other.Connect().ok());
    auto response = other.Get("/hello");
    REQUIRE(response.ok());
    CHECK(response->status == 200);
  }
}

TEST_CASE("Server reports a failed bind as a Status", "[http][server]") {
  TestServer first;
  Router router;
  Server second(FastOptions(), router);
  gw::Status status = second.Listen("127.0.0.1", first.port());
  REQUIRE_FALSE(status.ok());
  CHECK(status.message().find("127.0.0.1:" + std::to_string(first.port())) != std::string::npos);

  Server third(FastOptions(), router);
  CHECK_FALSE(third.Listen("not a host name!", 0).ok());
  third.Stop();  // never started: returns at once
}

TEST_CASE("Server closes connections above max_connections", "[http][server]") {
  ServerOptions options = FastOptions();
  options.max_connections = 1;
  TestServer server(options);
  HttpClient first(server.port());
  REQUIRE(first.Connect().ok());
  REQUIRE(first.Get("/hello").ok());  // registered before the second arrives

  HttpClient second(server.port());
  REQUIRE(second.Connect().ok());  // the kernel accepts; the server then closes
  CHECK(second.WaitForClose(1500ms));

  first.Close();
  // The slot frees once the first session has ended.
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    HttpClient third(server.port());
    served = third.Connect().ok() && third.Get("/hello").ok();
    if (!served) std::this_thread::sleep_for(10ms);
  }
  CHECK(served);
}

TEST_CASE("Server answers Expect: 100-continue before reading the body", "[http][server]") {
  TestServer server;
  HttpClient client(server.port());
  REQUIRE(client.Connect().ok());
  REQUIRE(client
              .SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                       "Expect: 100-continue\r\n\r\n")
              .ok());
  auto interim = client.ReadResponse();
  REQUIRE(interim.ok());
  CHECK(interim->status == 100);
  REQUIRE(client.SendRaw("hello").ok());
  auto response = client.ReadResponse();
  REQUIRE(response.ok());
  CHECK(response->status == 200);
  CHECK(response->body == "hello");
}

// ---- Streaming routes -------------------------------------------------------

namespace {

// Records what the server feeds it; acknowledges chunks from a worker thread
// (or synchronously, inside Consume) and answers Finish with the byte count.
struct RecordingConsumer : gw::http::BodyConsumer {
  explicit RecordingConsumer(bool sync) : sync(sync) {}
  void Consume(std::string_view chunk, std::function<void()> ready) override {
    {
      std::lock_guard<std::mutex> lock(mu);
      bytes.append(chunk.data(), chunk.size());
      ++chunks;
    }
    if (sync) return ready();
    std::thread([ready = std::move(ready)] {
      std::this_thread::sleep_for(1ms);
      ready();
    }).detach();
  }
  void Finish(gw::Status status, std::function<void(Response)> done) override {
    {
      std::lock_guard<std::mutex> lock(mu);
      finished = true;
      finish_code = status.code();
    }
    finished_latch.Set();
    Response response;
    response.status = status.ok() ? 201 : 413;
    response.body = nlohmann::json{{"bytes", Size()}}.dump();
    std::thread([done = std::move(done), response] { done(response); }).detach();
  }
  size_t Size() {
    std::lock_guard<std::mutex> lock(mu);
    return bytes.size();
  }
  const bool sync;
  std::mutex mu;
  std::string bytes;
  int chunks = 0;
  bool finished = false;
  gw::Code finish_code = gw::Code::kOk;
  Latch finished_latch;
};

struct StreamServer {
  explicit StreamServer(bool sync = false) {
    router.Add("GET", "/hello", [](const Request&) { return Response{}; });
    router.AddStreaming(
        "PUT", "/up/{name}",
        [this, sync](const Request& head) -> gw::http::HeadDecision {
          ++heads;
          if (head.path_params.at("name") != "ok") {
            return gw::http::ErrorResponse(401, "unauthenticated", "no");
          }
          auto made = std::make_shared<RecordingConsumer>(sync);
          {
            std::lock_guard<std::mutex> lock(mu);
            consumer_ = made;
          }
          return std::shared_ptr<gw::http::BodyConsumer>(made);
        },
        100 * 1024);
    server = std::make_unique<Server>(FastOptions(), router);
    REQUIRE(server->Listen("127.0.0.1", 0).ok());
    server->Start();
  }
  uint16_t port() const { return server->port(); }
  Router router;
  std::shared_ptr<RecordingConsumer> consumer() {
    std::lock_guard<std::mutex> lock(mu);
    return consumer_;
  }
  std::atomic<int> heads{0};
  std::mutex mu;
  std::shared_ptr<RecordingConsumer> consumer_;
  std::unique_ptr<Server> server;
};

}  // namespace

TEST_CASE("Server streams a body to a streaming route in chunks", "[http][server][stream]") {
  const bool sync = GENERATE(false, true);
  StreamServer server(sync);
  HttpClient client(server.port());
  REQUIRE(client.Connect().ok());
  std::string body(90 * 1024, 'a');  // above the buffered body_limit of 1024
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  auto r = client.Send("PUT", "/up/ok", body);
  REQUIRE(r.ok());
  CHECK(r->status == 201);
  CHECK(Json(*r)["bytes"] == body.size());
  CHECK(server.consumer()->bytes == body);
  CHECK(server.consumer()->chunks >= 2);
  CHECK(r->keep_alive);
  auto again = client.Get("/hello");  // the connection still works
  REQUIRE(again.ok());
  CHECK(again->status == 200);
}

TEST_CASE("Server answers a streaming route's head refusal without reading the body",
          "[http][server][stream]") {
  StreamServer server;
  HttpClient client(server.port());
  REQUIRE(client.Connect().ok());
  REQUIRE(client.SendRaw("PUT /up/no HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\n").ok());
  auto r = client.ReadResponse();
  REQUIRE(r.ok());
  CHECK(r->status == 401);
  CHECK_FALSE(r->keep_alive);
  CHECK(client.WaitForClose(1500ms));
}

TEST_CASE("Server enforces a streaming route's own body limit", "[http][server][stream]") {
  StreamServer server;
  HttpClient client(server.port());
  REQUIRE(client.Connect().ok());
  // By Content-Length: 413 before the handler runs.
  REQUIRE(client.SendRaw("PUT /up/ok HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n").ok());
  auto r = client.ReadResponse();
  REQUIRE(r.ok());
  CHECK(r->status == 413);
  CHECK(ErrorCode(*r) == "too_large");
  CHECK(server.heads == 0);

  // Chunked: cut off at the limit, the consumer finished with TooLarge.
  REQUIRE(client.Connect().ok());
  std::string request = "PUT /up/ok HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i) request += "8000\r\n" + std::string(0x8000, 'z') + "\r\n";
  request += "0\r\n\r\n";
  REQUIRE(client.SendRaw(request).ok());
  auto cut = client.ReadResponse();
  REQUIRE(cut.ok());
  CHECK(cut->status == 413);
  CHECK_FALSE(cut->keep_alive);
  REQUIRE(server.consumer());
  CHECK(server.consumer()->finish_code == gw::Code::kTooLarge);
  CHECK(server.consumer()->Size() <= 100 * 1024);
}

TEST_CASE("Server finishes a streaming consumer with an error when the client leaves",
          "[http][server][stream]") {
  StreamServer server;
  {
    HttpClient client(server.port());
    REQUIRE(client.Connect().ok());
    REQUIRE(client.SendRaw("PUT /up/ok HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\n" +
                           std::string(1000, 'q'))
                .ok());
    std::this_thread::sleep_for(100ms);
    client.Close();
  }
  std::shared_ptr<RecordingConsumer> consumer;
  for (int i = 0; i < 100 && !(consumer = server.consumer()); ++i) std::this_thread::sleep_for(10ms);
  REQUIRE(consumer);
  REQUIRE(consumer->finished_latch.WaitFor(2000ms));
  CHECK(consumer->finish_code != gw::Code::kOk);
  // The server still serves.
  HttpClient other(server.port());
  REQUIRE(other.Connect().ok());
  auto r = other.Get("/hello");
  REQUIRE(r.ok());
  CHECK(r->status == 200);
}

TEST_CASE("Server waits for a deferred head decision without holding a thread or reading the body",
          "[http][server][stream]") {
  // One I/O thread: if waiting for the decision held it, /hello on another
  // connection could not be answered meanwhile.
  ServerOptions options = FastOptions();
  options.threads = 1;
  Router router;
  std::mutex mu;
  std::vector<std::function<void(gw::http::HeadDecision)>> pending;  // guarded by mu
  std::atomic<int> consumers{0};
  router.Add("GET", "/hello", [](const Request&) { return Response{}; });
  router.AddStreaming(
      "PUT", "/up/{name}",
      [&](const Request& head) -> gw::http::HeadDecision {
        gw::http::DeferredHead later;
        if (head.path_params.at("name") == "dropped") {
          later.start = [](std::function<void(gw::http::HeadDecision)> decide) { (void)decide; };
          return later;
        }
        later.start = [&](std::function<void(gw::http::HeadDecision)> decide) {
          std::lock_guard<std::mutex> lock(mu);
          pending.push_back(std::move(decide));
        };
        return later;
      },
      100 * 1024);
  Server server(options, router);
  REQUIRE(server.Listen("127.0.0.1", 0).ok());
  server.Start();
  auto next_pending = [&]() -> std::function<void(gw::http::HeadDecision)> {
    for (auto deadline = Clock::now() + 2s; Clock::now() < deadline;
         std::this_thread::sleep_for(1ms)) {
      std::lock_guard<std::mutex> lock(mu);
      if (!pending.empty()) {
        auto decide = std::move(pending.front());
        pending.erase(pending.begin());
        return decide;
      }
    }
    return nullptr;
  };

  // Accepted later: every body byte reaches the consumer created then.
  HttpClient uploader(server.port());
  REQUIRE(uploader.Connect().ok());
  std::string body(50000, 'b');
  REQUIRE(uploader.SendRaw("PUT /up/ok HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\n" + body)
              .ok());
  auto accept = next_pending();
  REQUIRE(accept);
  HttpClient other(server.port());
  REQUIRE(other.Connect().ok());
  auto hello = other.Get("/hello");
  REQUIRE(hello.ok());
  CHECK(hello->status == 200);
  auto consumer = std::make_shared<RecordingConsumer>(false);
  std::thread([&] { accept(std::shared_ptr<gw::http::BodyConsumer>(consumer)); }).join();
  auto stored = uploader.ReadResponse();
  REQUIRE(stored.ok());
  CHECK(stored->status == 201);
  CHECK(consumer->bytes == body);
  CHECK(stored->keep_alive);

  // Refused later: the answer is sent, the unread body ends the connection.
  REQUIRE(uploader.SendRaw("PUT /up/no HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\n").ok());
  auto refuse = next_pending();
  REQUIRE(refuse);
  std::thread([&] { refuse(gw::http::ErrorResponse(401, "unauthenticated", "replayed")); }).join();
  auto refused = uploader.ReadResponse();
  REQUIRE(refused.ok());
  CHECK(refused->status == 401);
  CHECK_FALSE(refused->keep_alive);
  CHECK(uploader.WaitForClose(1500ms));

  // A decision dropped uncalled still answers the client.
  auto dropped = other.Send("PUT", "/up/dropped", "x");
  REQUIRE(dropped.ok());
  CHECK(dropped->status == 500);
  CHECK(ErrorCode(*dropped) == "internal");
}

TEST_CASE("Server refuses Content-Length together with Transfer-Encoding", "[http][server]") {
  StreamServer server;
  for (const char* path : {"/hello", "/up/ok"}) {
    HttpClient client(server.port());
    REQUIRE(client.Connect().ok());
    std::string method = std::string(path) == "/hello" ? "GET" : "PUT";
    REQUIRE(client
                .SendRaw(method + " " + path +
                         " HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
                .ok());
    auto r = client.ReadResponse();
    REQUIRE(r.ok());
    CHECK(r->status == 400);
    CHECK_FALSE(r->keep_alive);
  }
  CHECK(server.heads == 0);
}

TEST_CASE("Router dispatches a streaming route without a server", "[http][router]") {
  Router router;
  auto consumer = std::make_shared<RecordingConsumer>(false);
  router.AddStreaming(
      "PUT", "/up/{name}",
      [consumer](const Request&) -> gw::http::HeadDecision {
        return std::shared_ptr<gw::http::BodyConsumer>(consumer);
      },
      10);
  Request request;
  request.method = "PUT";
  request.path = "/up/x";
  request.body = "hello";
  Response r = router.Dispatch(request);
  CHECK(r.status == 201);
  CHECK(consumer->bytes == "hello");
  request.body = std::string(11, 'x');
  CHECK(router.Dispatch(request).status == 413);
  auto found = router.FindStreaming(request);
  CHECK(found.handler != nullptr);
  CHECK(found.body_limit == 10);
  CHECK(request.path_params.at("name") == "x");
}

TEST_CASE("Router dispatches a deferred head decision without a server", "[http][router]") {
  Router router;
  auto consumer = std::make_shared<RecordingConsumer>(false);
  router.AddStreaming(
      "PUT", "/up/{name}",
      [consumer](const Request& head) -> gw::http::HeadDecision {
        const std::string name = head.path_params.at("name");
        gw::http::DeferredHead later;
        later.start = [consumer, name](std::function<void(gw::http::HeadDecision)> decide) {
          if (name == "dropped") return;
          std::thread([consumer, name, decide = std::move(decide)] {
            if (name == "no") return decide(gw::http::ErrorResponse(401, "unauthenticated", "no"));
            decide(std::shared_ptr<gw::http::BodyConsumer>(consumer));
          }).detach();
        };
        return later;
      },
      10);
  Request request;
  request.method = "PUT";
  request.body = "hello";
  request.path = "/up/ok";
  CHECK(router.Dispatch(request).status == 201);
  CHECK(consumer->bytes == "hello");
  request.path = "/up/no";
  CHECK(router.Dispatch(request).status == 401);
  request.path = "/up/dropped";
  CHECK(router.Dispatch(request).status == 500);
  CHECK(consumer->bytes == "hello");
}

TEST_CASE("Server sends a deferred answer without holding a thread for it", "[http][server]") {
  // One I/O thread: if waiting for the deferred answer held it, the second
  // connection's request could not be served meanwhile.
  ServerOptions options = FastOptions();
  options.threads = 1;
  Router router;
  std::mutex mu;
  std::vector<std::function<void(Response)>> pending;  // guarded by mu
  router.Add("GET", "/later", [&](const Request& request) {
    Response deferred;
    const std::string id = request.QueryParam("id").value_or("");
    deferred.deferred = [&, id](std::function<void(Response)> done) {
      std::lock_guard<std::mutex> lock(mu);
      pending.push_back([id, done = std::move(done)](Response r) {
        r.body = nlohmann::json{{"id", id}}.dump();
        done(std::move(r));
      });
    };
    return deferred;
  });
  router.Add("GET", "/dropped", [](const Request&) {
    Response deferred;
    deferred.deferred = [](std::function<void(Response)> done) { (void)done; };  // never called
    return deferred;
  });
  router.Add("GET", "/hello", [](const Request&) {
    Response r;
    r.body = R"({"hello":"world"})";
    return r;
  });
  Server server(options, router);
  REQUIRE(server.Listen("127.0.0.1", 0).ok());
  server.Start();

  HttpClient waiting(server.port());
  REQUIRE(waiting.Connect().ok());
  REQUIRE(waiting.SendRaw("GET /later?id=a HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  HttpClient other(server.port());
  REQUIRE(other.Connect().ok());
  auto hello = other.Get("/hello");
  REQUIRE(hello.ok());
  CHECK(hello->status == 200);

  // Completed from a thread of the test's own, as the audit thread does.
  std::function<void(Response)> complete;
  for (auto deadline = Clock::now() + 2s; Clock::now() < deadline && !complete;) {
    std::lock_guard<std::mutex> lock(mu);
    if (!pending.empty()) complete = pending.front();
  }
  REQUIRE(complete);
  std::thread([complete] { complete(Response{}); }).join();
  auto answer = waiting.ReadResponse();
  REQUIRE(answer.ok());
  CHECK(answer->status == 200);
  CHECK(Json(*answer)["id"] == "a");
  CHECK(answer->keep_alive);
  // A second call of the same completion is ignored, and the connection serves on.
  complete(Response{});
  auto next = waiting.Get("/hello");
  REQUIRE(next.ok());
  CHECK(next->status == 200);

  // A completion dropped without an answer still answers the client.
  auto dropped = other.Get("/dropped");
  INFO(dropped.status().message());
  REQUIRE(dropped.ok());
  CHECK(dropped->status == 500);
  CHECK(ErrorCode(*dropped) == "internal");

  // The server waits for completions it handed out before it goes away.
  complete = nullptr;
  std::lock_guard<std::mutex> lock(mu);
  pending.clear();
}

TEST_CASE(
    "Server delivers deferred answers completed together from another thread to their own "
    "connections",
    "[http][server]") {
  // As the audit thread does with one batch: many completions in a row from
  // one thread, which the server hands to its own threads together.
  constexpr int kConnections = 24;
  Router router;
  std::mutex mu;
  std::vector<std::pair<std::string, std::function<void(Response)>>> pending;  // guarded by mu
  router.Add("GET", "/later", [&](const Request& request) {
    Response deferred;
    const std::string id = request.QueryParam("id").value_or("");
    deferred.deferred = [&, id](std::function<void(Response)> done) {
      std::lock_guard<std::mutex> lock(mu);
      pending.emplace_back(id, std::move(done));
    };
    return deferred;
  });
  Server server(FastOptions(), router);
  REQUIRE(server.Listen("127.0.0.1", 0).ok());
  server.Start();

  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int c = 0; c < kConnections; ++c) {
    clients.push_back(std::make_unique<HttpClient>(server.port()));
    REQUIRE(clients.back()->Connect().ok());
  }
  for (int round = 0; round < 4; ++round) {
    for (int c = 0; c < kConnections; ++c) {
      const std::string id = std::to_string(round) + "-" + std::to_string(c);
      REQUIRE(clients[c]->SendRaw("GET /later?id=" + id + " HTTP/1.1\r\nHost: x\r\n\r\n").ok());
    }
    std::vector<std::pair<std::string, std::function<void(Response)>>> batch;
    for (auto deadline = Clock::now() + 2s;
         Clock::now() < deadline && batch.size() < kConnections;) {
      std::lock_guard<std::mutex> lock(mu);
      for (auto& p : pending) batch.push_back(std::move(p));
      pending.clear();
    }
    REQUIRE(batch.size() == kConnections);
    std::thread([&batch] {
      for (auto& [id, done] : batch) {
        Response r;
        r.body = nlohmann::json{{"id", id}}.dump();
        done(std::move(r));
      }
    }).join();
    for (int c = 0; c < kConnections; ++c) {
      auto answer = clients[c]->ReadResponse();
      REQUIRE(answer.ok());
      CHECK(answer->status == 200);
      CHECK(Json(*answer)["id"] == std::to_string(round) + "-" + std::to_string(c));
      CHECK(answer->keep_alive);
    }
  }
}

TEST_CASE("Router::Dispatch waits for a deferred answer", "[http][server]") {
  Router router;
  router.Add("GET", "/later", [](const Request&) {
    Response deferred;
    deferred.deferred = [](std::function<void(Response)> done) {
      std::thread([done = std::move(done)] {
        std::this_thread::sleep_for(20ms);
        Response r;
        r.status = 202;
        done(std::move(r));
      }).detach();
    };
    return deferred;
  });
  Request request;
  request.method = "GET";
  request.path = "/later";
  Response response = router.Dispatch(request);
  CHECK(response.status == 202);
  CHECK_FALSE(response.deferred);
}

TEST_CASE("Server sends a shared body as it is, and only its length to HEAD", "[http][server]") {
  Router router;
  auto body = std::make_shared<const std::string>(std::string(70000, 'x') + "end");
  router.Add("GET", "/shared", [body](const Request&) {
    Response r;
    r.content_type = "text/plain";
    r.shared_body = body;
    return r;
  });
  Server server(FastOptions(), router);
  REQUIRE(server.Listen("127.0.0.1", 0).ok());
  server.Start();
  HttpClient client(server.port());
  REQUIRE(client.Connect().ok());
  for (int i = 0; i < 3; ++i) {  // the same bytes each time, on one connection
    auto got = client.Get("/shared");
    REQUIRE(got.ok());
    CHECK(got->status == 200);
    CHECK(got->body == *body);
    CHECK(got->Header("cache-control") == "no-store");
  }
  REQUIRE(client.SendRaw("HEAD /shared HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  auto head = client.ReadResponse(/*head=*/true);
  REQUIRE(head.ok());
  CHECK(head->Header("content-length") == std::to_string(body->size()));
  CHECK(head->body.empty());
  // Without a server, Settle copies it into the body.
  Request request;
  request.method = "GET";
  request.path = "/shared";
  Response settled = router.Dispatch(request);
  CHECK(settled.body == *body);
  CHECK(settled.shared_body == nullptr);
}
