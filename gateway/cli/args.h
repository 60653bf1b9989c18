// A small command-line parser: positional arguments and --flags (with a value
// as "--flag value" or "--flag=value", or boolean). Unknown flags are errors.
//
// Thread-safety: plain value.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gateway/common/status.h"

namespace gw::cli {

struct FlagSpec {
  std::set<std::string> with_value;  // e.g. {"dir", "country"}
  std::set<std::string> boolean;     // e.g. {"partial", "help"}
};

class Args {
 public:
  static Result<Args> Parse(const std::vector<std::string>& argv, const FlagSpec& spec);
  bool Has(const std::string& flag) const { return flags_.count(flag) > 0; }
  std::optional<std::string> Get(const std::string& flag) const;
  // The value of a required flag, or an error naming it.
  Result<std::string> Require(const std::string& flag) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> flags_;
  std::vector<std::string> positional_;
};

}  // namespace gw::cli
