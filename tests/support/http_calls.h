// Catch2 wrappers over http_client.h for the integration tests: a request that
// cannot be sent or answered fails the test where it was made, and the test
// goes on with the response.
//
// Thread-safety: as Catch2's REQUIRE, call from the test's own thread only.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "support/http_client.h"

namespace gw::test {

// testing::SendWithToken, which must succeed.
inline testing::ClientResponse MustCall(
    uint16_t port, const std::string& method, const std::string& target,
    const std::string& token = "", std::vector<std::pair<std::string, std::string>> headers = {}) {
  auto r = testing::SendWithToken(port, method, target, token, std::move(headers));
  REQUIRE(r.ok());
  return *r;
}

inline testing::ClientResponse MustGet(
    uint16_t port, const std::string& target, const std::string& token = "",
    std::vector<std::pair<std::string, std::string>> headers = {}) {
  return MustCall(port, "GET", target, token, std::move(headers));
}

}  // namespace gw::test
