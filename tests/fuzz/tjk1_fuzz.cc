#include "fuzz/adapter_fuzz.h"

// tjk-1 has one charset; the option byte is skipped so seeds share the layout of
// the other targets (scripts/fuzz.sh puts it in front of every sample).
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  return gw::fuzz::RunAdapter("tjk-1", "utf-8", data + 1, size - 1);
}
