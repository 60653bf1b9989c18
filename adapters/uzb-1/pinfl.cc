#include "adapters/uzb-1/pinfl.h"

namespace gw::uzb1 {
namespace {

bool AllDigits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

int Digit(std::string_view s, size_t i) { return s[i] - '0'; }

}  // namespace

int PinflCheckDigit(std::string_view first13) {
  if (first13.size() != 13 || !AllDigits(first13)) return -1;
  static constexpr int kWeights[3] = {7, 3, 1};
  int sum = 0;
  for (size_t i = 0; i < 13; ++i) sum += Digit(first13, i) * kWeights[i % 3];
  return sum % 10;
}

PinflFault ParsePinfl(std::string_view pinfl, PinflInfo* info) {
  if (pinfl.size() != 14 || !AllDigits(pinfl)) return PinflFault::kFormat;
  if (PinflCheckDigit(pinfl.substr(0, 13)) != Digit(pinfl, 13)) return PinflFault::kChecksum;
  const int c = Digit(pinfl, 0);
  if (c < 1 || c > 6) return PinflFault::kCentury;
  if (pinfl.substr(7, 3) == "000" || pinfl.substr(10, 3) == "000") return PinflFault::kZeroCode;
  const int day = Digit(pinfl, 1) * 10 + Digit(pinfl, 2);
  const int month = Digit(pinfl, 3) * 10 + Digit(pinfl, 4);
  const int year = 1800 + 100 * ((c - 1) / 2) + Digit(pinfl, 5) * 10 + Digit(pinfl, 6);
  if (!IsValidDate(year, month, day)) return PinflFault::kDate;
  if (info != nullptr) {
    info->birth = Date{year, month, day};
    info->sex = c % 2 == 1 ? 'M' : 'F';
  }
  return PinflFault::kNone;
}

}  // namespace gw::uzb1
