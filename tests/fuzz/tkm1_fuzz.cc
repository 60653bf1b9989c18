#include "fuzz/adapter_fuzz.h"

// tkm-1 accepts UTF-8 only. The first input byte is an option byte: its low bit
// declares the charset as "utf-8" or leaves it empty (the profile default), so
// both paths of the charset check are explored. It is always skipped.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const char* charset = (data[0] & 1) ? "" : "utf-8";
  return gw::fuzz::RunAdapter("tkm-1", charset, data + 1, size - 1);
}
