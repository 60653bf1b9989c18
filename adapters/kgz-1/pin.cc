// Implements pin.h.
#include "adapters/kgz-1/pin.h"

namespace gw::kgz1 {

PinFault ParsePin(std::string_view pin, PinInfo* info) {
  if (pin.size() != 14) return PinFault::kFormat;
  for (char c : pin) {
    if (c < '0' || c > '9') return PinFault::kFormat;
  }
  char sex = 0;
  if (pin[0] == '1') {
    sex = 'F';
  } else if (pin[0] == '2') {
    sex = 'M';
  } else {
    return PinFault::kSex;
  }
  auto number = [&](size_t pos, size_t len) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) v = v * 10 + (pin[i] - '0');
    return v;
  };
  const int day = number(1, 2), month = number(3, 2), year = number(5, 4);
  if (!IsValidDate(year, month, day)) return PinFault::kDate;
  if (info != nullptr) {
    info->birth = Date{year, month, day};
    info->sex = sex;
  }
  return PinFault::kNone;
}

}  // namespace gw::kgz1
