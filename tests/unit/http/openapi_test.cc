// The OpenAPI document lists exactly the routes the router serves.
#include <catch2/catch.hpp>

#include <set>

#include "gateway/http/api.h"
#include "gateway/http/router.h"
#include "support/test_deployment.h"

namespace gw {

TEST_CASE("the OpenAPI document lists every route and only those", "[openapi]") {
  test::TestDeployment t;
  http::Router router;
  http::Api api(t.deployment());
  api.Register(router);

  http::Request req;
  req.method = "GET";
  req.path = "/v1/openapi.json";
  http::Response res = router.Dispatch(req);
  REQUIRE(res.status == 200);
  auto doc = nlohmann::json::parse(res.body);
  CHECK(doc["openapi"].get<std::string>().rfind("3.", 0) == 0);

  std::set<std::pair<std::string, std::string>> documented, served;
  for (const auto& [path, ops] : doc["paths"].items()) {
    for (const auto& [method, op] : ops.items()) {
      std::string upper = method;
      for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      documented.insert({upper, path});
      CHECK(op.contains("responses"));
      CHECK(op.contains("summary"));
    }
  }
  for (const auto& route : router.Routes()) served.insert(route);
  CHECK(served.size() == router.Routes().size());  // no route registered twice
  for (const auto& r : served) {
    INFO("served but not documented: " << r.first << " " << r.second);
    CHECK(documented.count(r));
  }
  for (const auto& d : documented) {
    INFO("documented but not served: " << d.first << " " << d.second);
    CHECK(served.count(d));
  }
  // Every $ref points at something that exists.
  std::function<void(const nlohmann::json&)> refs = [&](const nlohmann::json& j) {
    if (j.is_object()) {
      for (const auto& [k, v] : j.items()) {
        if (k == "$ref") {
          std::string ref = v.get<std::string>();
          REQUIRE(ref.rfind("#/", 0) == 0);
          INFO(ref);
          CHECK(doc.contains(nlohmann::json::json_pointer(ref.substr(1))));
        } else {
          refs(v);
        }
      }
    } else if (j.is_array()) {
      for (const auto& v : j) refs(v);
    }
  };
  refs(doc);
}

}  // namespace gw

namespace gw {

TEST_CASE("the canonical query text reads back as the same query", "[audit]") {
  auto q = ParseAggregateQuery({{"by", "sex"}, {"age", "60+,0-4"}, {"ref_date", "2015-06-30"}});
  REQUIRE(q.ok());
  std::string text = http::CanonicalQuery(*q);
  CHECK(text == "ref_date=2015-06-30&by=sex,age&age=0-4,60%2B&format=json");
  std::string path;
  std::vector<std::pair<std::string, std::string>> params;
  REQUIRE(http::ParseTarget("/v1/aggregates?" + text, 64, &path, &params).ok());
  auto q2 = ParseAggregateQuery(params);
  REQUIRE(q2.ok());
  CHECK(http::CanonicalQuery(*q2) == text);
}

}  // namespace gw
