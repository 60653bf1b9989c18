#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "gateway/http/router.h"

namespace {

using gw::http::Request;
using gw::http::Response;
using gw::http::Router;

Request MakeRequest(std::string method, std::string path) {
  Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.target = request.path;
  return request;
}

Response Text(std::string body) {
  Response response;
  response.content_type = "text/plain";
  response.body = std::move(body);
  return response;
}

std::string ErrorCode(const Response& response) {
  return nlohmann::json::parse(response.body).at("error").at("code").get<std::string>();
}

}  // namespace

TEST_CASE("Router matches literal paths exactly", "[http][router]") {
  Router router;
  router.Add("GET", "/", [](const Request&) { return Text("root"); });
  router.Add("GET", "/v1/health", [](const Request&) { return Text("health"); });

  Request root = MakeRequest("GET", "/");
  CHECK(router.Dispatch(root).body == "root");
  Request health = MakeRequest("GET", "/v1/health");
  CHECK(router.Dispatch(health).body == "health");

  for (const char* path : {"/v1/health/", "/v1//health", "/V1/health", "/v1", "/v1/healthz", ""}) {
    Request request = MakeRequest("GET", path);
    Response response = router.Dispatch(request);
    INFO(path);
    CHECK(response.status == 404);
    CHECK(ErrorCode(response) == "not_found");
  }
}

TEST_CASE("Router fills path parameters", "[http][router]") {
  Router router;
  router.Add("GET", "/v1/snapshots/{country}/{ref_date}", [](const Request& request) {
    return Text(request.path_params.at("country") + "|" + request.path_params.at("ref_date"));
  });

  Request request = MakeRequest("GET", "/v1/snapshots/KAZ/2024-01-01");
  Response response = router.Dispatch(request);
  CHECK(response.status == 200);
  CHECK(response.body == "KAZ|2024-01-01");
  CHECK(request.path_params.size() == 2);

  SECTION("a parameter never matches an empty segment") {
    Request empty = MakeRequest("GET", "/v1/snapshots//2024-01-01");
    CHECK(router.Dispatch(empty).status == 404);
  }
  SECTION("a parameter matches exactly one segment") {
    Request longer = MakeRequest("GET", "/v1/snapshots/KAZ/x/2024-01-01");
    CHECK(router.Dispatch(longer).status == 404);
  }
}

TEST_CASE("Router prefers literal segments over parameters", "[http][router]") {
  Router router;
  router.Add("GET", "/v1/snapshots/{id}", [](const Request&) { return Text("param"); });
  router.Add("GET", "/v1/snapshots/latest", [](const Request&) { return Text("literal"); });
  router.Add("GET", "/v1/{kind}/latest", [](const Request&) { return Text("late-literal"); });

  Request latest = MakeRequest("GET", "/v1/snapshots/latest");
  CHECK(router.Dispatch(latest).body == "literal");
  Request other = MakeRequest("GET", "/v1/snapshots/abc");
  CHECK(router.Dispatch(other).body == "param");
  Request kind = MakeRequest("GET", "/v1/receipts/latest");
  CHECK(router.Dispatch(kind).body == "late-literal");
}

TEST_CASE("Router answers 405 with Allow for a known path", "[http][router]") {
  Router router;
  router.Add("GET", "/v1/items/{id}", [](const Request&) { return Text("get"); });
  router.Add("DELETE", "/v1/items/{id}", [](const Request&) { return Text("delete"); });
  router.Add("POST", "/v1/items", [](const Request&) { return Text("post"); });

  Request put = MakeRequest("PUT", "/v1/items/7");
  Response response = router.Dispatch(put);
  CHECK(response.status == 405);
  CHECK(ErrorCode(response) == "method_not_allowed");
  REQUIRE(response.headers.size() == 1);
  CHECK(response.headers[0].first == "Allow");
  CHECK(response.headers[0].second == "DELETE, GET, HEAD");

  Request get = MakeRequest("GET", "/v1/items");
  Response wrong = router.Dispatch(get);
  CHECK(wrong.status == 405);
  CHECK(wrong.headers.at(0).second == "POST");
}

TEST_CASE("Router serves HEAD from the GET route", "[http][router]") {
  Router router;
  router.Add("GET", "/a", [](const Request&) { return Text("get"); });
  router.Add("HEAD", "/b", [](const Request&) { return Text("head"); });
  router.Add("GET", "/b", [](const Request&) { return Text("get"); });

  Request a = MakeRequest("HEAD", "/a");
  CHECK(router.Dispatch(a).body == "get");
  Request b = MakeRequest("HEAD", "/b");
  CHECK(router.Dispatch(b).body == "head");
}

TEST_CASE("Router turns handler exceptions into an opaque 500", "[http][router]") {
  Router router;
  router.Add("GET", "/boom", [](const Request&) -> Response {
    throw std::runtime_error("national id 123456789 rejected");
  });
  router.Add("GET", "/int", [](const Request&) -> Response { throw 42; });

  for (const char* path : {"/boom", "/int"}) {
    Request request = MakeRequest("GET", path);
    Response response = router.Dispatch(request);
    CHECK(response.status == 500);
    CHECK(ErrorCode(response) == "internal");
    CHECK(response.body.find("123456789") == std::string::npos);
  }
}

TEST_CASE("Router lists routes in order and replaces duplicates", "[http][router]") {
  Router router;
  router.Add("GET", "/a", [](const Request&) { return Text("1"); });
  router.Add("POST", "/b/{x}", [](const Request&) { return Text("2"); });
  router.Add("GET", "/a", [](const Request&) { return Text("3"); });

  auto routes = router.Routes();
  REQUIRE(routes.size() == 2);
  CHECK(routes[0] == std::make_pair(std::string("GET"), std::string("/a")));
  CHECK(routes[1] == std::make_pair(std::string("POST"), std::string("/b/{x}")));
  Request request = MakeRequest("GET", "/a");
  CHECK(router.Dispatch(request).body == "3");
}

TEST_CASE("ErrorResponse escapes its strings", "[http][router]") {
  Response response = gw::http::ErrorResponse(400, "invalid_argument", "bad \"x\"\n\\ \xff");
  CHECK(response.status == 400);
  CHECK(response.content_type == "application/json");
  auto doc = nlohmann::json::parse(response.body);
  CHECK(doc["error"]["code"] == "invalid_argument");
  CHECK(doc["error"]["message"].get<std::string>().rfind("bad \"x\"\n\\ ", 0) == 0);
}

TEST_CASE("ParseTarget decodes path and query", "[http][router]") {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;

  REQUIRE(gw::http::ParseTarget("/a%20b/c+d?x=1&y=hello+world&z=%C3%A9&&flag&e=", 64, &path, &query)
              .ok());
  CHECK(path == "/a b/c+d");
  REQUIRE(query.size() == 5);
  CHECK(query[0] == std::make_pair(std::string("x"), std::string("1")));
  CHECK(query[1] == std::make_pair(std::string("y"), std::string("hello world")));
  CHECK(query[2] == std::make_pair(std::string("z"), std::string("\xC3\xA9")));
  CHECK(query[3] == std::make_pair(std::string("flag"), std::string()));
  CHECK(query[4] == std::make_pair(std::string("e"), std::string()));

  Request request;
  request.query = query;
  CHECK(request.QueryParam("y") == std::optional<std::string>("hello world"));
  CHECK(request.QueryParam("flag") == std::optional<std::string>(""));
  CHECK_FALSE(request.QueryParam("missing").has_value());
}

TEST_CASE("ParseTarget rejects bad targets without echoing values", "[http][router]") {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;

  auto bad_query = gw::http::ParseTarget("/x?a=1&secret=%zz", 64, &path, &query);
  REQUIRE_FALSE(bad_query.ok());
  CHECK(bad_query.code() == gw::Code::kInvalidArgument);
  CHECK(bad_query.message().find("query parameter 2") != std::string::npos);
  CHECK(bad_query.message().find("secret") == std::string::npos);
  CHECK(bad_query.message().find("%zz") == std::string::npos);

  CHECK_FALSE(gw::http::ParseTarget("/x?a=%4", 64, &path, &query).ok());
  CHECK_FALSE(gw::http::ParseTarget("/x?a=%", 64, &path, &query).ok());
  CHECK_FALSE(gw::http::ParseTarget("/x?a=%00", 64, &path, &query).ok());
  CHECK_FALSE(gw::http::ParseTarget("/x%2", 64, &path, &query).ok());
  CHECK_FALSE(gw::http::ParseTarget("/x%00y", 64, &path, &query).ok());
  CHECK_FALSE(gw::http::ParseTarget("http://example.org/x", 64, &path, &query).ok());
  CHECK_FALSE(gw::http::ParseTarget("", 64, &path, &query).ok());

  CHECK(gw::http::ParseTarget("/x?a&b&c", 3, &path, &query).ok());
  auto too_many = gw::http::ParseTarget("/x?a&b&c&d", 3, &path, &query);
  REQUIRE_FALSE(too_many.ok());
  CHECK(too_many.message().find("too many") != std::string::npos);
}
