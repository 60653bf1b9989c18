// AdapterRegistry: the one list of national profiles. Each adapter folder
// registers itself with GW_REGISTER_ADAPTER in its own source file, so adding
// a country is one new folder plus one add_subdirectory() line in
// adapters/CMakeLists.txt. `gateway ingest --profile`, `--help` and the
// server's `?profile=` all read this registry.
//
// Thread-safety: registration happens during static initialisation; lookups
// afterwards are read-only and safe from any thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gateway/schema/adapter.h"

namespace gw {

struct AdapterInfo {
  std::string profile;                // "kaz-1"
  std::string country;                // the only country that may use it ("KAZ"); empty: any
  std::string description;            // one line, for --help
  std::vector<std::string> charsets;  // accepted charsets, first is the default
  std::string media_type;             // expected Content-Type, e.g. "text/csv"
  std::function<std::unique_ptr<Adapter>()> create;
};

class AdapterRegistry {
 public:
  static AdapterRegistry& Global();

  // Returns false (and registers nothing) if the profile is already taken.
  bool Register(AdapterInfo info);
  const AdapterInfo* Find(const std::string& profile) const;
  // Sorted by profile name.
  std::vector<const AdapterInfo*> All() const;

 private:
  std::vector<std::unique_ptr<AdapterInfo>> adapters_;
};

namespace internal {
struct AdapterRegistration {
  explicit AdapterRegistration(AdapterInfo info);
};
}  // namespace internal

}  // namespace gw

// Use once at namespace scope in the adapter's .cc file.
#define GW_REGISTER_ADAPTER(ident, ...) \
  static const ::gw::internal::AdapterRegistration gw_adapter_registration_##ident(__VA_ARGS__)
