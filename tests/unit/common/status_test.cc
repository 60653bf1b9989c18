#include <catch2/catch.hpp>

#include "gateway/common/status.h"

namespace gw {

Result<int> Half(int v) {
  if (v % 2) return Status::InvalidArgument("odd");
  return v / 2;
}

Result<int> Quarter(int v) {
  GW_ASSIGN_OR_RETURN(int h, Half(v));
  return Half(h);
}

TEST_CASE("Status carries code and message; Result propagates errors", "[common]") {
  Status s = Status::NotFound("no snapshot");
  CHECK_FALSE(s.ok());
  CHECK(s.code() == Code::kNotFound);
  CHECK(s.ToString() == "not_found: no snapshot");
  CHECK(s.WithContext("query").message() == "query: no snapshot");
  CHECK(Status::Ok().ok());
  CHECK(*Quarter(8) == 2);
  CHECK(Quarter(6).status().message() == "odd");
  CHECK(Quarter(6).status().code() == Code::kInvalidArgument);
}

}  // namespace gw
