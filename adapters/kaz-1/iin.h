// The Kazakh individual identification number (ЖСН/ИИН): `YYMMDD C NNNN K`,
// 12 digits. Digits 1-6 are the birth date, digit 7 the century and sex
// (1/2 born 1800s, 3/4 1900s, 5/6 2000s; odd male, even female), digit 12 a
// check digit over digits 1-11 (see FORMATS.md, kaz-1).
//
// The IIN is identifying: nothing here puts it, or any part of it, into a
// message.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "gateway/common/date.h"

namespace gw::kaz1 {

enum class IinFault {
  kNone,
  kFormat,    // not exactly 12 ASCII digits
  kChecksum,  // check digit wrong, or none can exist (r is 10 with both weightings)
  kCentury,   // digit 7 is 0, 7, 8 or 9
  kDate,      // digits 1-6 with the century are not a real date
};

struct IinInfo {
  Date birth;
  char sex = 0;  // 'M' or 'F'
};

// The check digit for `first11` (11 ASCII digits), or -1 when no digit is
// valid (r = 10 under both weightings) or the input is not 11 digits.
int IinCheckDigit(std::string_view first11);

// Checks `iin` in the order format, checksum, century, date, and fills `info`
// (may be null) when the result is kNone.
IinFault ParseIin(std::string_view iin, IinInfo* info);

}  // namespace gw::kaz1
