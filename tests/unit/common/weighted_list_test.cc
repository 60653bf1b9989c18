#include "gateway/common/weighted_list.h"

#include <catch2/catch.hpp>

namespace gw {

TEST_CASE("weighted lists: values, weights, parameters and malformed items", "[common][http]") {
  auto items = ParseWeightedList(
      " Text/CSV ;q=0.5, application/vnd.sdmx.data+csv; version=\"2.0.0, draft\"; Q = 0.25 ,, "
      "gzip;q=2, br;q, *;q=0");
  REQUIRE(items.size() == 3);
  CHECK(items[0].value == "text/csv");
  CHECK(items[0].weight == 500);
  // The comma inside the quoted version does not split the item.
  CHECK(items[1].value == "application/vnd.sdmx.data+csv");
  CHECK(items[1].weight == 250);
  // gzip;q=2 and br;q are malformed and left out; *;q=0 stays, with weight 0.
  CHECK(items[2].value == "*");
  CHECK(items[2].weight == 0);
  CHECK(ParseWeightedList("").empty());
  CHECK(ParseWeightedList("identity")[0].weight == 1000);
  CHECK(ParseWeightedList("a;q=1.000")[0].weight == 1000);
  CHECK(ParseWeightedList("a;q=1.001").empty());
  CHECK(ParseWeightedList("a;q=0.0001").empty());
}

}  // namespace gw
