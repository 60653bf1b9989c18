// Sharing policies: the grants each data-owning country gives to consumers,
// read from DIR/policies/*.toml ([[grant]] tables).
//
//   [[grant]]
//   country    = "KAZ"                 # owner of the data (alpha-3)
//   consumer   = "unhcr"               # consumer name as registered
//   pop_types  = ["REF", "ASY", "STA"]
//   dimensions = ["coa", "coo", "pop_type", "sex", "age", "region"]
//   mechanism  = "dp" | "sdc" | "none"
//   epsilon    = 0.5                   # dp: cost of one new table
//   budget     = 5.0                   # dp: per consumer, country and reference date
//   threshold  = 5                     # values below are shown as suppressed
//   rounding   = 5                     # sdc: round published values to this base
//   expires    = 2027-12-31            # optional; the grant stops applying after it
//
// Loading validates every key and reports errors that name the file, the
// grant (its 1-based position in the file) and the key. A set of policies is
// loaded whole or not at all.
//
// Thread-safety: Policy is immutable once loaded; PolicyStore swaps the
// current Policy atomically under a mutex and hands out shared_ptrs, so a
// request keeps the policy it started with.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gateway/common/date.h"
#include "gateway/common/status.h"
#include "gateway/schema/dimensions.h"

namespace gw {

enum class Mechanism { kNone, kSdc, kDp };
const char* MechanismName(Mechanism m);

struct Grant {
  std::string file;  // file name, for messages
  int index = 0;     // 1-based position in its file
  std::string country;
  std::string consumer;
  std::vector<std::string> pop_types;
  std::vector<Dim> dimensions;
  Mechanism mechanism = Mechanism::kSdc;
  int64_t epsilon_micro = 0;  // dp: exact micro-epsilon
  int64_t budget_micro = 0;   // dp
  int64_t threshold = 0;
  int64_t rounding = 0;
  std::optional<Date> expires;

  bool AllowsDim(Dim d) const;
  bool AllowsPopType(const std::string& code) const;
  std::string Describe() const;  // "policies/kaz.toml grant #2 (KAZ -> unhcr)"
};

class Policy {
 public:
  Policy() = default;
  explicit Policy(std::vector<Grant> grants) : grants_(std::move(grants)) {}
  const std::vector<Grant>& grants() const { return grants_; }
  // The grant of `country` to `consumer` in force on `today`, or null.
  const Grant* Find(const std::string& country, const std::string& consumer,
                    const Date& today) const;

 private:
  std::vector<Grant> grants_;
};

// Parses every *.toml file in `dir` (sorted by name). A missing directory is an
// empty policy (deny everything).
Result<Policy> LoadPolicies(const std::string& dir);
// Parses one file's text; `file` is used in messages.
Result<std::vector<Grant>> ParsePolicyText(const std::string& text, const std::string& file);
// Parses a decimal such as "0.5" or 0.25 exactly into millionths.
std::optional<int64_t> ParseMicro(const std::string& text);

class PolicyStore {
 public:
  explicit PolicyStore(std::string dir) : dir_(std::move(dir)), current_(std::make_shared<Policy>()) {}
  // Loads the directory; on failure the previous policy stays in force.
  Status Reload();
  std::shared_ptr<const Policy> current() const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  mutable std::mutex mu_;
  std::shared_ptr<const Policy> current_;  // guarded by mu_
};

// Today's date in UTC.
Date TodayUtc();

}  // namespace gw
