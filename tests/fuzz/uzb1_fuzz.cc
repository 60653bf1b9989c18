#include <string>
#include <string_view>

#include "fuzz/adapter_fuzz.h"

// uzb-1 has one charset, so the option byte chooses the reference date
// instead. RunAdapter() runs at 30.06.2015 but the uzb-1 sample says
// holat_sanasi 31.12.2019, and a wrong holat_sanasi stops the adapter before
// the first item. With bit 0 clear (the seeds' option byte) every 31.12.2019
// becomes 30.06.2015, so mutations reach the items; with it set the input
// goes through untouched, which explores the eksport checks.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if ((data[0] & 1) != 0) return gw::fuzz::RunAdapter("uzb-1", "utf-8", data + 1, size - 1);
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  constexpr std::string_view kSampleDate = "31.12.2019", kHarnessDate = "30.06.2015";
  for (size_t p = 0; (p = text.find(kSampleDate, p)) != std::string::npos;
       p += kHarnessDate.size()) {
    text.replace(p, kSampleDate.size(), kHarnessDate);
  }
  return gw::fuzz::RunAdapter("uzb-1", "utf-8", reinterpret_cast<const uint8_t*>(text.data()),
                              text.size());
}
