#include "gateway/cli/args.h"

namespace gw::cli {

Result<Args> Args::Parse(const std::vector<std::string>& argv, const FlagSpec& spec) {
  Args a;
  bool only_positional = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (only_positional || arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      if (arg == "--") {
        only_positional = true;
        continue;
      }
      if (arg == "-h") {
        a.flags_["help"] = "";
        continue;
      }
      a.positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2), value;
    size_t eq = name.find('=');
    bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (spec.boolean.count(name) || name == "help") {
      if (inline_value) return Status::InvalidArgument("--" + name + " takes no value");
      a.flags_[name] = "";
    } else if (spec.with_value.count(name)) {
      if (!inline_value) {
        if (i + 1 >= argv.size()) return Status::InvalidArgument("--" + name + " needs a value");
        value = argv[++i];
      }
      if (a.flags_.count(name)) return Status::InvalidArgument("--" + name + " is given twice");
      a.flags_[name] = value;
    } else {
      return Status::InvalidArgument("unknown option --" + name);
    }
  }
  return a;
}

std::optional<std::string> Args::Get(const std::string& flag) const {
  auto it = flags_.find(flag);
  if (it == flags_.end()) return std::nullopt;
  return it->second;
}

Result<std::string> Args::Require(const std::string& flag) const {
  auto v = Get(flag);
  if (!v || v->empty()) return Status::InvalidArgument("--" + flag + " is required");
  return *v;
}

}  // namespace gw::cli
