// The shared-v1 NDJSON reader (what `gateway push` uploads), run through the
// adapter registry like the national profiles, with the same checking sink
// (adapter_fuzz.h). The snapshot is KAZ at 2015-06-30, so a matching header is
// {"type":"header","profile":"shared-v1","country":"KAZ","ref_date":"2015-06-30"}.
// shared-v1 has a single charset, so unlike the national targets there is no
// option byte: the whole input is the file.
#include "fuzz/adapter_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return gw::fuzz::RunAdapter("shared-v1", "utf-8", data, size);
}
