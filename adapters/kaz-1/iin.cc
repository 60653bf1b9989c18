#include "adapters/kaz-1/iin.h"

namespace gw::kaz1 {
namespace {

bool AllDigits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

int Digit(std::string_view s, size_t i) { return s[i] - '0'; }

}  // namespace

int IinCheckDigit(std::string_view first11) {
  if (first11.size() != 11 || !AllDigits(first11)) return -1;
  int sum = 0;
  for (size_t i = 0; i < 11; ++i) sum += Digit(first11, i) * static_cast<int>(i + 1);
  int r = sum % 11;
  if (r != 10) return r;
  static constexpr int kSecond[11] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2};
  sum = 0;
  for (size_t i = 0; i < 11; ++i) sum += Digit(first11, i) * kSecond[i];
  r = sum % 11;
  return r == 10 ? -1 : r;
}

IinFault ParseIin(std::string_view iin, IinInfo* info) {
  if (iin.size() != 12 || !AllDigits(iin)) return IinFault::kFormat;
  if (IinCheckDigit(iin.substr(0, 11)) != Digit(iin, 11)) return IinFault::kChecksum;
  const int c = Digit(iin, 6);
  if (c < 1 || c > 6) return IinFault::kCentury;
  const int century = 1800 + 100 * ((c - 1) / 2);
  const int year = century + Digit(iin, 0) * 10 + Digit(iin, 1);
  const int month = Digit(iin, 2) * 10 + Digit(iin, 3);
  const int day = Digit(iin, 4) * 10 + Digit(iin, 5);
  if (!IsValidDate(year, month, day)) return IinFault::kDate;
  if (info != nullptr) {
    info->birth = Date{year, month, day};
    info->sex = c % 2 == 1 ? 'M' : 'F';
  }
  return IinFault::kNone;
}

}  // namespace gw::kaz1
