#include "gateway/schema/adapter_registry.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace gw {

AdapterRegistry& AdapterRegistry::Global() {
  static AdapterRegistry registry;
  return registry;
}

bool AdapterRegistry::Register(AdapterInfo info) {
  if (Find(info.profile) != nullptr) return false;
  adapters_.push_back(std::make_unique<AdapterInfo>(std::move(info)));
  return true;
}

const AdapterInfo* AdapterRegistry::Find(const std::string& profile) const {
  for (const auto& a : adapters_)
    if (a->profile == profile) return a.get();
  return nullptr;
}

std::vector<const AdapterInfo*> AdapterRegistry::All() const {
  std::vector<const AdapterInfo*> out;
  for (const auto& a : adapters_) out.push_back(a.get());
  std::sort(out.begin(), out.end(),
            [](const AdapterInfo* a, const AdapterInfo* b) { return a->profile < b->profile; });
  return out;
}

internal::AdapterRegistration::AdapterRegistration(AdapterInfo info) {
  std::string profile = info.profile;
  if (!AdapterRegistry::Global().Register(std::move(info))) {
    // Two folders claiming one profile is a build defect, not an input error.
    std::fprintf(stderr, "adapter profile registered twice: %s\n", profile.c_str());
    std::abort();
  }
}

}  // namespace gw
