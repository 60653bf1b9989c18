#include "gateway/privacy/policy.h"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "gateway/privacy/toml_decimal.h"
#include "gateway/schema/codelists.h"

namespace gw {
namespace {

namespace fs = std::filesystem;

const std::set<std::string> kKnownKeys = {"country",   "consumer",  "pop_types", "dimensions",
                                          "mechanism", "epsilon",   "budget",    "threshold",
                                          "rounding",  "expires"};

std::string Where(const std::string& file, int index, const std::string& key) {
  std::string w = file + ": grant #" + std::to_string(index);
  if (!key.empty()) w += ", key \"" + key + "\"";
  return w;
}

Result<std::vector<std::string>> StringArray(const toml::table& t, const std::string& key,
                                             const std::string& where) {
  const toml::array* arr = t[key].as_array();
  if (arr == nullptr) return Status::InvalidArgument(where + ": must be an array of strings");
  std::vector<std::string> out;
  for (const auto& el : *arr) {
    auto s = el.value<std::string>();
    if (!s) return Status::InvalidArgument(where + ": must be an array of strings");
    out.push_back(*s);
  }
  if (out.empty()) return Status::InvalidArgument(where + ": must not be empty");
  return out;
}

Result<int64_t> Micro(const toml::table& t, const std::string& key, const std::string& where) {
  auto v = MicroFromToml(*t.get(key));
  if (!v || *v <= 0) {
    return Status::InvalidArgument(where + ": must be a positive number with at most 6 decimals");
  }
  return *v;
}

Result<int64_t> NonNegativeInt(const toml::table& t, const std::string& key,
                               const std::string& where) {
  auto v = t[key].value<int64_t>();
  if (!v || !t[key].is_integer() || *v < 0 || *v > 1000000) {
    return Status::InvalidArgument(where + ": must be a whole number from 0 to 1000000");
  }
  return *v;
}

Result<Grant> ParseGrant(const toml::table& t, const std::string& file, int index) {
  Grant g;
  g.file = file;
  g.index = index;
  for (const auto& [k, v] : t) {
    std::string key(k.str());
    if (!kKnownKeys.count(key)) {
      return Status::InvalidArgument(Where(file, index, key) + ": unknown key");
    }
  }
  for (const char* required : {"country", "consumer", "pop_types", "dimensions", "mechanism"}) {
    if (!t.contains(required)) {
      return Status::InvalidArgument(Where(file, index, required) + ": missing");
    }
  }
  const auto& codes = CodeLists::Get();
  auto country = t["country"].value<std::string>();
  if (!country || codes.CountryByAlpha3(*country) == nullptr || *country == "XXA" ||
      *country == "UNK") {
    return Status::InvalidArgument(Where(file, index, "country") +
                                   ": must be an ISO 3166-1 alpha-3 country code");
  }
  g.country = *country;
  auto consumer = t["consumer"].value<std::string>();
  if (!consumer || consumer->empty()) {
    return Status::InvalidArgument(Where(file, index, "consumer") + ": must be a consumer name");
  }
  g.consumer = *consumer;
  GW_ASSIGN_OR_RETURN(g.pop_types, StringArray(t, "pop_types", Where(file, index, "pop_types")));
  for (const auto& p : g.pop_types) {
    if (!codes.IsPopType(p)) {
      return Status::InvalidArgument(Where(file, index, "pop_types") + ": unknown population type \"" +
                                     p + "\"");
    }
  }
  GW_ASSIGN_OR_RETURN(auto dims, StringArray(t, "dimensions", Where(file, index, "dimensions")));
  for (const auto& d : dims) {
    auto dim = DimFromName(d);
    if (!dim) {
      return Status::InvalidArgument(Where(file, index, "dimensions") + ": unknown dimension \"" +
                                     d + "\" (known: coa, coo, pop_type, sex, age, region)");
    }
    g.dimensions.push_back(*dim);
  }
  auto mech = t["mechanism"].value<std::string>();
  if (mech == "none") {
    g.mechanism = Mechanism::kNone;
  } else if (mech == "sdc") {
    g.mechanism = Mechanism::kSdc;
  } else if (mech == "dp") {
    g.mechanism = Mechanism::kDp;
  } else {
    return Status::InvalidArgument(Where(file, index, "mechanism") +
                                   ": must be \"dp\", \"sdc\" or \"none\"");
  }
  if (t.contains("epsilon")) {
    GW_ASSIGN_OR_RETURN(g.epsilon_micro, Micro(t, "epsilon", Where(file, index, "epsilon")));
  }
  if (t.contains("budget")) {
    GW_ASSIGN_OR_RETURN(g.budget_micro, Micro(t, "budget", Where(file, index, "budget")));
  }
  if (g.mechanism == Mechanism::kDp && (g.epsilon_micro == 0 || g.budget_micro == 0)) {
    return Status::InvalidArgument(Where(file, index, g.epsilon_micro ? "budget" : "epsilon") +
                                   ": required when mechanism is \"dp\"");
  }
  if (g.budget_micro && g.epsilon_micro > g.budget_micro) {
    return Status::InvalidArgument(Where(file, index, "epsilon") +
                                   ": larger than the budget, so no table could ever be released");
  }
  if (t.contains("threshold")) {
    GW_ASSIGN_OR_RETURN(g.threshold, NonNegativeInt(t, "threshold", Where(file, index, "threshold")));
  }
  if (t.contains("rounding")) {
    GW_ASSIGN_OR_RETURN(g.rounding, NonNegativeInt(t, "rounding", Where(file, index, "rounding")));
  }
  if (t.contains("expires")) {
    const toml::node* n = t.get("expires");
    std::optional<Date> d;
    if (auto td = n->as_date()) {
      const toml::date& v = td->get();
      if (IsValidDate(v.year, v.month, v.day)) d = Date{v.year, v.month, v.day};
    } else if (auto s = n->as_string()) {
      d = ParseIsoDate(s->get());
    }
    if (!d) {
      return Status::InvalidArgument(Where(file, index, "expires") + ": must be a date YYYY-MM-DD");
    }
    g.expires = d;
  }
  return g;
}

}  // namespace

const char* MechanismName(Mechanism m) {
  switch (m) {
    case Mechanism::kNone: return "none";
    case Mechanism::kSdc: return "sdc";
    case Mechanism::kDp: return "dp";
  }
  return "?";
}

bool Grant::AllowsDim(Dim d) const {
  // The reporting country is the grant's own country: naming it reveals nothing.
  if (d == Dim::kCoa) return true;
  return std::find(dimensions.begin(), dimensions.end(), d) != dimensions.end();
}

bool Grant::AllowsPopType(const std::string& code) const {
  return std::find(pop_types.begin(), pop_types.end(), code) != pop_types.end();
}

std::string Grant::Describe() const {
  return file + " grant #" + std::to_string(index) + " (" + country + " -> " + consumer + ")";
}

const Grant* Policy::Find(const std::string& country, const std::string& consumer,
                          const Date& today) const {
  for (const auto& g : grants_) {
    if (g.country == country && g.consumer == consumer && (!g.expires || today <= *g.expires)) {
      return &g;
    }
  }
  return nullptr;
}

std::optional<int64_t> MicroFromToml(const toml::node& node) {
  std::string text;
  if (auto f = node.as_floating_point()) {
    std::ostringstream os;
    os.precision(15);
    os << f->get();
    text = os.str();
  } else if (auto i = node.as_integer()) {
    text = std::to_string(i->get());
  } else if (auto s = node.as_string()) {
    text = s->get();
  } else {
    return std::nullopt;
  }
  return ParseMicro(text);
}

std::optional<int64_t> ParseMicro(const std::string& text) {
  if (text.empty()) return std::nullopt;
  int64_t whole = 0, frac = 0;
  size_t i = 0, frac_digits = 0;
  bool any = false;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
    whole = whole * 10 + (text[i] - '0');
    any = true;
    if (whole > 1000000) return std::nullopt;
  }
  if (i < text.size() && text[i] == '.') {
    for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
      if (++frac_digits > 6) {
        if (text[i] != '0') return std::nullopt;
        continue;
      }
      frac = frac * 10 + (text[i] - '0');
      any = true;
    }
  }
  if (!any || i != text.size()) return std::nullopt;
  while (frac_digits < 6) frac *= 10, ++frac_digits;
  return whole * 1000000 + frac;
}

Result<std::vector<Grant>> ParsePolicyText(const std::string& text, const std::string& file) {
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << file << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
       << e.description();
    return Status::InvalidArgument(os.str());
  }
  for (const auto& [k, v] : root) {
    if (k.str() != "grant") {
      return Status::InvalidArgument(file + ": unknown top-level key \"" + std::string(k.str()) +
                                     "\" (policies hold [[grant]] tables only)");
    }
  }
  std::vector<Grant> grants;
  if (!root.contains("grant")) return grants;
  const toml::array* arr = root["grant"].as_array();
  if (arr == nullptr || !arr->is_array_of_tables()) {
    return Status::InvalidArgument(file + ": \"grant\" must be written as [[grant]] tables");
  }
  int index = 0;
  for (const auto& node : *arr) {
    ++index;
    GW_ASSIGN_OR_RETURN(Grant g, ParseGrant(*node.as_table(), file, index));
    grants.push_back(std::move(g));
  }
  return grants;
}

Result<Policy> LoadPolicies(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return Policy();
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".toml" && entry.is_regular_file()) files.push_back(entry.path());
  }
  if (ec) return Status::IoError("cannot list " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<Grant> all;
  for (const auto& path : files) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) return Status::IoError("cannot read " + path.string());
    GW_ASSIGN_OR_RETURN(auto grants, ParsePolicyText(text.str(), path.filename().string()));
    for (auto& g : grants) all.push_back(std::move(g));
  }
  // One grant per (country, consumer): two would make the effective rule depend on file order.
  for (size_t i = 0; i < all.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (all[i].country == all[j].country && all[i].consumer == all[j].consumer) {
        return Status::InvalidArgument(all[i].Describe() + " duplicates " + all[j].Describe() +
                                       "; keep one grant per country and consumer");
      }
    }
  }
  return Policy(std::move(all));
}

Status PolicyStore::Reload() {
  auto loaded = LoadPolicies(dir_);
  if (!loaded.ok()) return loaded.status();
  auto next = std::make_shared<const Policy>(std::move(loaded).value());
  std::lock_guard<std::mutex> lock(mu_);
  current_ = std::move(next);
  return Status::Ok();
}

std::shared_ptr<const Policy> PolicyStore::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

Date TodayUtc() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return Date{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

}  // namespace gw
