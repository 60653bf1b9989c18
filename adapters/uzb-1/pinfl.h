// The Uzbek personal identification number (JShShIR / PINFL): 14 digits
// `C DDMMYY RRR SSS K`. C gives sex and century (odd male, even female; 1/2
// born 1800s, 3/4 1900s, 5/6 2000s), DDMMYY the birth date, RRR and SSS are
// never 000, and K is a check digit: the sum of the first 13 digits weighted
// 7,3,1,7,3,1,... taken mod 10 (see FORMATS.md, uzb-1).
//
// The PINFL is identifying: nothing here puts it, or any part of it, into a
// message.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "gateway/common/date.h"

namespace gw::uzb1 {

enum class PinflFault {
  kNone,
  kFormat,    // not exactly 14 ASCII digits
  kChecksum,  // check digit wrong
  kCentury,   // first digit is 0, 7, 8 or 9
  kZeroCode,  // RRR or SSS is 000
  kDate,      // DDMMYY with the century is not a real date
};

struct PinflInfo {
  Date birth;
  char sex = 0;  // 'M' or 'F'
};

// The check digit for `first13` (13 ASCII digits), or -1 if it is not that.
int PinflCheckDigit(std::string_view first13);

// Checks `pinfl` in the order format, checksum, century, zero codes, date, and
// fills `info` (may be null) when the result is kNone.
PinflFault ParsePinfl(std::string_view pinfl, PinflInfo* info);

}  // namespace gw::uzb1
