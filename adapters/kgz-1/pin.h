// The Kyrgyz personal identification number (PIN, ПИН) as kgz-1 carries it:
// 14 ASCII digits; digit 1 is the sex (1 female, 2 male), digits 2-9 the birth
// date DDMMYYYY; digits 10-14 are a serial. There is no check digit
// (FORMATS.md, kgz-1).
//
// The PIN is identifying: nothing here puts it, or any part of it, into a
// message.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "gateway/common/date.h"

namespace gw::kgz1 {

enum class PinFault {
  kNone,
  kFormat,  // not exactly 14 ASCII digits
  kSex,     // digit 1 is neither 1 nor 2
  kDate,    // digits 2-9 are not a real date DDMMYYYY
};

struct PinInfo {
  Date birth;
  char sex = 0;  // 'M' or 'F'
};

// Checks `pin` in the order format, sex digit, date, and fills `info` (may be
// null) when the result is kNone.
PinFault ParsePin(std::string_view pin, PinInfo* info);

}  // namespace gw::kgz1
