#include <catch2/catch.hpp>

#include "gateway/query/aggregate_query.h"

namespace gw {

using Params = std::vector<std::pair<std::string, std::string>>;

TEST_CASE("aggregate queries parse into a canonical form", "[query]") {
  auto q = ParseAggregateQuery({{"ref_date", "2015-06-30"}, {"by", "pop_type,coo"}, {"sex", "F,M"}});
  REQUIRE(q.ok());
  CHECK(q->ref_date == Date{2015, 6, 30});
  REQUIRE(q->by.size() == 3);  // a filtered dimension is always broken down
  CHECK(q->by[0] == Dim::kPopType);
  CHECK(q->by[1] == Dim::kCoo);
  CHECK(q->by[2] == Dim::kSex);
  CHECK(q->filters[DimIndex(Dim::kSex)] == std::vector<std::string>{"F", "M"});
  CHECK(q->format == "json");
  CHECK_FALSE(q->format_given);  // the API may then take the format from Accept
  auto none = ParseAggregateQuery({{"ref_date", "2015-06-30"}});
  REQUIRE(none.ok());
  CHECK(none->by.empty());
  auto json = ParseAggregateQuery({{"ref_date", "2015-06-30"}, {"format", "json"}});
  REQUIRE(json.ok());
  CHECK(json->format == "json");
  CHECK(json->format_given);  // even when it names the default
}

TEST_CASE("bad aggregate parameters are named", "[query]") {
  auto msg = [](const Params& p) {
    auto q = ParseAggregateQuery(p);
    REQUIRE_FALSE(q.ok());
    CHECK(q.status().code() == Code::kInvalidArgument);
    return q.status().message();
  };
  CHECK(msg({{"by", "coo"}}) == "parameter \"ref_date\" is required");
  CHECK(msg({{"ref_date", "2015-02-30"}}).find("ref_date") != std::string::npos);
  CHECK(msg({{"ref_date", "30.06.2015"}}).find("ref_date") != std::string::npos);
  CHECK(msg({{"ref_date", "2015-06-30"}, {"by", "coo,colour"}}).find("\"colour\"") != std::string::npos);
  CHECK(msg({{"ref_date", "2015-06-30"}, {"by", "coo,coo"}}).find("twice") != std::string::npos);
  CHECK(msg({{"ref_date", "2015-06-30"}, {"coo", "AFG,ZZZ"}}).find("\"ZZZ\"") != std::string::npos);
  CHECK(msg({{"ref_date", "2015-06-30"}, {"age", "18-60"}}).find("\"18-60\"") != std::string::npos);
  CHECK(msg({{"ref_date", "2015-06-30"}, {"region", "KZ-99"}}).find("KZ-99") != std::string::npos);
  CHECK(msg({{"ref_date", "2015-06-30"}, {"coa", "XXA"}}).find("XXA") != std::string::npos);
  CHECK(msg({{"ref_date", "2015-06-30"}, {"foo", "1"}, {"bar", "2"}}).find("\"foo\", \"bar\"") != std::string::npos);
  CHECK(msg({{"ref_date", "2015-06-30"}, {"ref_date", "2015-06-30"}}).find("more than once") != std::string::npos);
  CHECK(msg({{"ref_date", "2015-06-30"}, {"format", "xml"}}).find("format") != std::string::npos);
  CHECK(msg({{"ref_date", "2015-06-30"}, {"sex", ""}}).find("unknown code") != std::string::npos);
}

}  // namespace gw
