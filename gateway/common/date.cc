#include "gateway/common/date.h"

#include <ctime>

#include <cstdio>

namespace gw {
namespace {

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

std::optional<int> Digits(std::string_view s) {
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

// Splits into (year, month, day) text per `order` and `sep`; checks the shape only.
bool Split(std::string_view t, DateOrder order, char sep, std::string_view& y, std::string_view& m,
           std::string_view& d) {
  if (t.size() != 10) return false;
  if (order == DateOrder::kDayMonthYear) {
    if (t[2] != sep || t[5] != sep) return false;
    d = t.substr(0, 2), m = t.substr(3, 2), y = t.substr(6, 4);
  } else {
    if (t[4] != sep || t[7] != sep) return false;
    y = t.substr(0, 4), m = t.substr(5, 2), d = t.substr(8, 2);
  }
  return true;
}

}  // namespace

bool IsValidDate(int year, int month, int day) {
  return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 &&
         day <= DaysInMonth(year, month);
}

// Howard Hinnant's days_from_civil.
int64_t Date::DaysSinceEpoch() const {
  int y = year - (month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned mp = static_cast<unsigned>(month + (month > 2 ? -3 : 9));
  const unsigned doy = (153 * mp + 2) / 5 + static_cast<unsigned>(day) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

Date Date::FromDaysSinceEpoch(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return Date{static_cast<int>(y + (m <= 2 ? 1 : 0)), static_cast<int>(m), static_cast<int>(d)};
}

std::string Date::ToIso() const {
  // Runs for every person ingested: no printf machinery for the usual range.
  if (year >= 0 && year <= 9999 && month >= 0 && month <= 99 && day >= 0 && day <= 99) {
    const char iso[10] = {static_cast<char>('0' + year / 1000), static_cast<char>('0' + year / 100 % 10),
                          static_cast<char>('0' + year / 10 % 10), static_cast<char>('0' + year % 10),
                          '-', static_cast<char>('0' + month / 10), static_cast<char>('0' + month % 10),
                          '-', static_cast<char>('0' + day / 10), static_cast<char>('0' + day % 10)};
    return std::string(iso, sizeof iso);
  }
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
  return buf;
}

std::optional<Date> PartialDate::AgeReference() const {
  if (year == 0) return std::nullopt;
  if (month == 0) return Date{year, 7, 1};
  if (day == 0) return Date{year, month, 15};
  return Date{year, month, day};
}

std::optional<Date> PartialDate::Earliest() const {
  if (year == 0) return std::nullopt;
  return Date{year, month == 0 ? 1 : month, day == 0 ? 1 : day};
}

std::optional<Date> PartialDate::Latest() const {
  if (year == 0) return std::nullopt;
  const int m = month == 0 ? 12 : month;
  return Date{year, m, day == 0 ? DaysInMonth(year, m) : day};
}

std::optional<Date> ParseDate(std::string_view text, DateOrder order, char sep) {
  std::string_view ys, ms, ds;
  if (!Split(text, order, sep, ys, ms, ds)) return std::nullopt;
  auto y = Digits(ys), m = Digits(ms), d = Digits(ds);
  if (!y || !m || !d || !IsValidDate(*y, *m, *d)) return std::nullopt;
  return Date{*y, *m, *d};
}

std::optional<PartialDate> ParsePartialDate(std::string_view text, DateOrder order, char sep) {
  std::string_view ys, ms, ds;
  if (!Split(text, order, sep, ys, ms, ds)) return std::nullopt;
  auto y = Digits(ys), m = Digits(ms), d = Digits(ds);
  if (!y || !m || !d) return std::nullopt;
  if (*y == 0) {
    if (*m != 0 || *d != 0) return std::nullopt;
    return PartialDate{};
  }
  if (*m == 0) {
    if (*d != 0) return std::nullopt;
    if (*y < 1) return std::nullopt;
    return PartialDate{*y, 0, 0};
  }
  if (*m > 12) return std::nullopt;
  if (*d == 0) return PartialDate{*y, *m, 0};
  if (!IsValidDate(*y, *m, *d)) return std::nullopt;
  return PartialDate{*y, *m, *d};
}

std::optional<Date> ParseIsoDate(std::string_view text) {
  return ParseDate(text, DateOrder::kYearMonthDay, '-');
}

int AgeInYears(const Date& birth, const Date& at) {
  int age = at.year - birth.year;
  if (at.month < birth.month || (at.month == birth.month && at.day < birth.day)) --age;
  return age;
}

std::string UtcNowIso() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace gw
