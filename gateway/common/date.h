// Civil dates without time zones, and the partial birth dates of the national
// profiles (a day or month of 00 means "unknown", a year of 0000 means the
// whole date is unknown).
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gw {

struct Date {
  int year = 0;
  int month = 0;  // 1..12
  int day = 0;    // 1..31

  // Days since 1970-01-01 (proleptic Gregorian).
  int64_t DaysSinceEpoch() const;
  static Date FromDaysSinceEpoch(int64_t days);
  std::string ToIso() const;  // YYYY-MM-DD
  friend auto operator<=>(const Date&, const Date&) = default;
};

bool IsValidDate(int year, int month, int day);

// A date in which month or day may be unknown (0), or the year too (0: all unknown).
struct PartialDate {
  int year = 0;
  int month = 0;
  int day = 0;

  bool complete() const { return year != 0 && month != 0 && day != 0; }
  bool year_known() const { return year != 0; }
  // The date used for age: 1 July when the month is unknown, the 15th when only
  // the day is unknown. Empty when the year is unknown.
  std::optional<Date> AgeReference() const;
  // The earliest and latest real dates this partial date may stand for.
  std::optional<Date> Earliest() const;
  std::optional<Date> Latest() const;
};

enum class DateOrder { kDayMonthYear, kYearMonthDay };

// Parses "DD.MM.YYYY" (sep '.'), "DD/MM/YYYY" (sep '/') or "YYYY-MM-DD" (sep '-').
// Exact shape required: two-digit day and month, four-digit year.
std::optional<Date> ParseDate(std::string_view text, DateOrder order, char sep);
// As ParseDate, but allows 00 for an unknown day or month and 0000 for an
// unknown year (then day and month must be 00 too). A 00 month with a known
// day is refused.
std::optional<PartialDate> ParsePartialDate(std::string_view text, DateOrder order, char sep);
// ISO "YYYY-MM-DD".
std::optional<Date> ParseIsoDate(std::string_view text);

// The current time in UTC as "YYYY-MM-DDTHH:MM:SSZ" (for records and messages).
std::string UtcNowIso();

// Whole years between birth and `at` (floor); negative when birth is after at.
int AgeInYears(const Date& birth, const Date& at);

}  // namespace gw
