#include "fuzz/adapter_fuzz.h"

// The first input byte picks the declared charset, so both decoders are explored.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const char* charset = (data[0] & 1) ? "rk1048" : "utf-8";
  return gw::fuzz::RunAdapter("kaz-1", charset, data + 1, size - 1);
}
