// A decimal setting read from TOML, for policies (epsilon, budget) and
// gateway.toml (snapshot_epsilon_cap). Thread-safe (no state).
#pragma once

#include <cstdint>
#include <optional>
#include <toml++/toml.h>

namespace gw {

// The value in millionths, for a TOML float (0.5), integer (2) or string
// ("0.5") with at most 6 decimals; nullopt for anything else. A float goes
// through its shortest decimal text, so no binary rounding enters the budget
// arithmetic.
std::optional<int64_t> MicroFromToml(const toml::node& node);

}  // namespace gw
