#include "gateway/common/date.h"

#include <catch2/catch.hpp>

namespace gw {
namespace {

TEST_CASE("IsValidDate knows month lengths and leap years", "[date]") {
  CHECK(IsValidDate(2015, 6, 30));
  CHECK_FALSE(IsValidDate(2015, 6, 31));
  CHECK(IsValidDate(2012, 2, 29));
  CHECK_FALSE(IsValidDate(2013, 2, 29));
  CHECK(IsValidDate(2000, 2, 29));
  CHECK_FALSE(IsValidDate(1900, 2, 29));
  CHECK_FALSE(IsValidDate(2015, 0, 1));
  CHECK_FALSE(IsValidDate(2015, 13, 1));
  CHECK_FALSE(IsValidDate(0, 1, 1));
}

TEST_CASE("Date days since epoch round-trips", "[date]") {
  CHECK(Date{1970, 1, 1}.DaysSinceEpoch() == 0);
  CHECK(Date{2000, 3, 1}.DaysSinceEpoch() == 11017);
  CHECK(Date{1969, 12, 31}.DaysSinceEpoch() == -1);
  for (int64_t d = -800000; d <= 800000; d += 997) {
    CHECK(Date::FromDaysSinceEpoch(d).DaysSinceEpoch() == d);
  }
  CHECK(Date::FromDaysSinceEpoch(Date{2016, 2, 29}.DaysSinceEpoch()) == Date{2016, 2, 29});
  CHECK(Date{2015, 6, 30}.ToIso() == "2015-06-30");
  CHECK(Date{987, 1, 2}.ToIso() == "0987-01-02");
  CHECK(Date{9999, 12, 31}.ToIso() == "9999-12-31");
  CHECK(Date{0, 1, 1}.ToIso() == "0000-01-01");
  // Outside four-digit years, the general formatting.
  CHECK(Date{10000, 1, 1}.ToIso() == "10000-01-01");
  CHECK(Date{-1, 1, 1}.ToIso() == "-001-01-01");
}

TEST_CASE("Dates compare chronologically", "[date]") {
  CHECK(Date{2015, 6, 30} < Date{2015, 7, 1});
  CHECK(Date{2014, 12, 31} < Date{2015, 1, 1});
  CHECK(Date{2015, 6, 30} == Date{2015, 6, 30});
}

TEST_CASE("ParseDate accepts the three shapes exactly", "[date]") {
  CHECK(ParseDate("30.06.2015", DateOrder::kDayMonthYear, '.') == Date{2015, 6, 30});
  CHECK(ParseDate("30/06/2015", DateOrder::kDayMonthYear, '/') == Date{2015, 6, 30});
  CHECK(ParseIsoDate("2015-06-30") == Date{2015, 6, 30});
  CHECK_FALSE(ParseDate("31.02.2013", DateOrder::kDayMonthYear, '.'));
  CHECK_FALSE(ParseDate("30/06/2015", DateOrder::kDayMonthYear, '.'));
  CHECK_FALSE(ParseDate("3.06.2015", DateOrder::kDayMonthYear, '.'));
  CHECK_FALSE(ParseDate("30.06.15", DateOrder::kDayMonthYear, '.'));
  CHECK_FALSE(ParseDate(" 30.06.2015", DateOrder::kDayMonthYear, '.'));
  CHECK_FALSE(ParseDate("00.06.2015", DateOrder::kDayMonthYear, '.'));
  CHECK_FALSE(ParseDate("", DateOrder::kDayMonthYear, '.'));
  CHECK_FALSE(ParseDate("3a.06.2015", DateOrder::kDayMonthYear, '.'));
  CHECK_FALSE(ParseIsoDate("2015-6-30"));
}

TEST_CASE("ParsePartialDate allows 00 parts", "[date]") {
  auto full = ParsePartialDate("11.12.2006", DateOrder::kDayMonthYear, '.');
  REQUIRE(full);
  CHECK(full->complete());
  auto no_day = ParsePartialDate("00.12.2006", DateOrder::kDayMonthYear, '.');
  REQUIRE(no_day);
  CHECK(no_day->year == 2006);
  CHECK(no_day->month == 12);
  CHECK(no_day->day == 0);
  auto year_only = ParsePartialDate("00.00.1987", DateOrder::kDayMonthYear, '.');
  REQUIRE(year_only);
  CHECK(year_only->year == 1987);
  CHECK(year_only->month == 0);
  auto unknown = ParsePartialDate("00.00.0000", DateOrder::kDayMonthYear, '.');
  REQUIRE(unknown);
  CHECK_FALSE(unknown->year_known());
  CHECK_FALSE(ParsePartialDate("15.00.1987", DateOrder::kDayMonthYear, '.'));
  CHECK_FALSE(ParsePartialDate("01.01.0000", DateOrder::kDayMonthYear, '.'));
  CHECK_FALSE(ParsePartialDate("00.13.1987", DateOrder::kDayMonthYear, '.'));
  CHECK_FALSE(ParsePartialDate("30.02.1987", DateOrder::kDayMonthYear, '.'));
  CHECK(ParsePartialDate("1987-00-00", DateOrder::kYearMonthDay, '-')->year == 1987);
}

TEST_CASE("PartialDate age reference, earliest and latest", "[date]") {
  const PartialDate year_only{1987, 0, 0};
  CHECK(year_only.AgeReference() == Date{1987, 7, 1});
  CHECK(year_only.Earliest() == Date{1987, 1, 1});
  CHECK(year_only.Latest() == Date{1987, 12, 31});
  const PartialDate no_day{2012, 2, 0};
  CHECK(no_day.AgeReference() == Date{2012, 2, 15});
  CHECK(no_day.Earliest() == Date{2012, 2, 1});
  CHECK(no_day.Latest() == Date{2012, 2, 29});
  const PartialDate full{2006, 12, 11};
  CHECK(full.AgeReference() == Date{2006, 12, 11});
  CHECK(full.Earliest() == full.Latest());
  const PartialDate unknown{};
  CHECK_FALSE(unknown.AgeReference());
  CHECK_FALSE(unknown.Earliest());
  CHECK_FALSE(unknown.Latest());
}

TEST_CASE("AgeInYears floors at birthdays", "[date]") {
  const Date ref{2015, 6, 30};
  CHECK(AgeInYears(Date{1990, 6, 30}, ref) == 25);
  CHECK(AgeInYears(Date{1990, 7, 1}, ref) == 24);
  CHECK(AgeInYears(Date{2015, 6, 30}, ref) == 0);
  CHECK(AgeInYears(Date{2015, 7, 1}, ref) == -1);
  CHECK(AgeInYears(Date{2000, 2, 29}, Date{2001, 2, 28}) == 0);
  CHECK(AgeInYears(Date{2000, 2, 29}, Date{2001, 3, 1}) == 1);
}

}  // namespace
}  // namespace gw
