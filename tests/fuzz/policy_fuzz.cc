// The policy-file parser (DIR/policies/*.toml). The input is the text of one
// file. ParsePolicyText must turn every problem into a Status: an exception
// escaping it (toml++ throws internally) would take down `gateway serve` on a
// SIGHUP reload, so one is reported here as a finding (type and what() on
// stderr, then abort) rather than swallowed. Accepted grants must satisfy the
// checks the loader promises (known codes, dp grants with a positive epsilon
// not above the budget, bounded threshold and rounding).
// Any crash, sanitizer report or broken invariant (__builtin_trap) is a finding.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <typeinfo>

#include "gateway/privacy/policy.h"
#include "gateway/schema/codelists.h"

namespace {

void CheckGrant(const gw::Grant& g, int index) {
  const auto& codes = gw::CodeLists::Get();
  if (g.file != "fuzz.toml" || g.index != index) __builtin_trap();
  if (codes.CountryByAlpha3(g.country) == nullptr || g.consumer.empty()) __builtin_trap();
  if (g.pop_types.empty() || g.dimensions.empty()) __builtin_trap();
  for (const auto& p : g.pop_types) {
    if (!codes.IsPopType(p) || !g.AllowsPopType(p)) __builtin_trap();
  }
  for (gw::Dim d : g.dimensions) {
    if (!g.AllowsDim(d)) __builtin_trap();
  }
  if (g.epsilon_micro < 0 || g.budget_micro < 0) __builtin_trap();
  if (g.mechanism == gw::Mechanism::kDp && (g.epsilon_micro <= 0 || g.budget_micro <= 0)) __builtin_trap();
  if (g.budget_micro > 0 && g.epsilon_micro > g.budget_micro) __builtin_trap();
  if (g.threshold < 0 || g.threshold > 1000000 || g.rounding < 0 || g.rounding > 1000000) __builtin_trap();
  if (g.Describe().empty()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto grants = gw::ParsePolicyText(text, "fuzz.toml");
    if (!grants.ok()) {
      if (grants.status().message().empty()) __builtin_trap();  // a refusal must say why
      return 0;
    }
    int index = 0;
    for (const auto& g : *grants) CheckGrant(g, ++index);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FINDING: ParsePolicyText let an exception escape: %s: %s\n", typeid(e).name(),
                 e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "FINDING: ParsePolicyText let a non-std exception escape\n");
    std::abort();
  }
  return 0;
}
