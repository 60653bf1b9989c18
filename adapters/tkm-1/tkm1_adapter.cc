// tkm-1: Turkmenistan, State Migration Service aggregate table. See FORMATS.md
// for the profile. Each row is checked in this order:
//   1. the field count (a row error, as in every CSV profile);
//   2. `senesi` and `sany`, whose faults refuse the whole file: a count that
//      cannot be trusted, or a row tabulated for another date, would make the
//      country's cells wrong, and unlike a person row a cell cannot simply be
//      left out without silently understating a published number;
//   3. the key columns in the order of the profile's table (row errors);
//   4. the duplicate rule (the whole file: two cells for one key leave no way
//      to tell which count is the truth).
#include "adapters/tkm-1/tkm1_adapter.h"

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gateway/common/csv_reader.h"
#include "gateway/common/date.h"
#include "gateway/common/text.h"
#include "gateway/common/transcode.h"
#include "gateway/schema/adapter_registry.h"
#include "gateway/schema/codelists.h"

namespace gw::tkm1 {
namespace {

// ---------------------------------------------------------------------------
// The profile's tables. Texts are written as in FORMATS.md and compared after
// FoldKey (NFC, trimmed, case-folded), so case and NFD input do not matter.

enum Column { kDate, kRegion, kCountry, kStatus, kSex, kAge, kCount, kColumnCount };

constexpr std::array<const char*, kColumnCount> kHeaders = {
    "senesi", "welaýat", "raýatlygy", "status", "jynsy", "ýaş_topary", "sany",
};

struct Mapping {
  const char* text;
  const char* code;
};

constexpr Mapping kRegions[] = {
    {"Aşgabat", "TM-S"}, {"Ahal", "TM-A"},  {"Balkan", "TM-B"},
    {"Daşoguz", "TM-D"}, {"Lebap", "TM-L"}, {"Mary", "TM-M"},
};

constexpr Mapping kStatuses[] = {
    {"bosgun", "REF"},
    {"gaçybatalga gözleýän", "ASY"},
    {"raýatlygy ýok", "STA"},
    {"zähmet migranty", "MIG"},
};

constexpr Mapping kSexes[] = {
    {"erkek", "M"},
    {"aýal", "F"},
};

// The age bands are the shared code list's own codes; only "unknown" has a
// Turkmen spelling.
constexpr char kUnknownAge[] = "näbelli";

constexpr int64_t kMaxCount = 10'000'000;

using KeyMap = std::unordered_map<std::string, const char*>;

KeyMap BuildMap(const Mapping* begin, const Mapping* end) {
  KeyMap map;
  for (const Mapping* m = begin; m != end; ++m) map.emplace(FoldKey(m->text), m->code);
  return map;
}

struct Tables {
  std::array<std::string, kColumnCount> header_keys;
  KeyMap regions, statuses, sexes, ages;
};

const Tables& GetTables() {
  static const Tables tables = [] {
    Tables t;
    for (size_t c = 0; c < kColumnCount; ++c) t.header_keys[c] = FoldKey(kHeaders[c]);
    t.regions = BuildMap(std::begin(kRegions), std::end(kRegions));
    t.statuses = BuildMap(std::begin(kStatuses), std::end(kStatuses));
    t.sexes = BuildMap(std::begin(kSexes), std::end(kSexes));
    // CodeLists lives for the whole program, so pointers into it stay valid.
    const std::string& unknown = CodeLists::UnknownAgeBand();
    for (const CodeEntry& band : CodeLists::Get().age_bands()) {
      if (band.code != unknown) t.ages.emplace(FoldKey(band.code), band.code.c_str());
    }
    t.ages.emplace(FoldKey(kUnknownAge), unknown.c_str());
    return t;
  }();
  return tables;
}

const char* Lookup(const KeyMap& map, std::string_view raw) {
  auto it = map.find(FoldKey(raw));
  return it == map.end() ? nullptr : it->second;
}

// ISO alpha-3 (any case) known to the code lists, or XXA. UNK is in the code
// lists but the profile does not allow it.
const char* CountryFor(std::string_view raw) {
  const std::string key = FoldKey(raw);
  if (key.size() != 3) return nullptr;
  std::string code(3, ' ');
  for (size_t i = 0; i < 3; ++i) {
    if (key[i] < 'a' || key[i] > 'z') return nullptr;
    code[i] = static_cast<char>(key[i] - ('a' - 'A'));
  }
  if (code == "UNK") return nullptr;
  const Country* country = CodeLists::Get().CountryByAlpha3(code);
  return country == nullptr ? nullptr : country->alpha3.c_str();
}

// `sany`: ASCII digits only (no sign, decimals or group separators). Leading
// zeros are digits and are accepted. Stops as soon as the value is too large,
// so no length can overflow.
std::optional<int64_t> ParseCount(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
    if (value > kMaxCount) return std::nullopt;
  }
  return value;
}

// A bounded memo from raw cell text to its code. Code columns repeat a few
// values over many rows; this keeps ICU out of the loop for them. The bound
// keeps hostile input (every value distinct) from growing memory.
class Memo {
 public:
  template <typename Compute>
  const char* Get(std::string_view raw, Compute&& compute) {
    auto it = map_.find(raw);
    if (it != map_.end()) return it->second;
    if (map_.size() >= kMaxEntries) map_.clear();
    const char* code = compute(raw);
    map_.emplace(std::string(raw), code);
    return code;
  }

 private:
  static constexpr size_t kMaxEntries = 512;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, const char*, Hash, std::equal_to<>> map_;
};

bool IsProfileCharset(const std::string& charset) {
  std::string lower = charset;
  for (char& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  return lower == "utf-8" || lower == "utf8";
}

// ---------------------------------------------------------------------------

struct Fault {
  Column column;
  const char* kind;
  const char* reason;  // never holds the value itself
};

class Tkm1Adapter : public Adapter {
 public:
  Status Run(ByteSource& input, const AdapterContext& context, RecordSink& sink) override;

 private:
  // Checks the key columns; on success fills the codes of `cell`.
  std::optional<Fault> CheckCodes(const std::vector<std::string>& cells, CellRecord& cell);
  std::string_view Cell(const std::vector<std::string>& cells, Column c) const {
    return TrimSpace(cells[index_[c]]);
  }

  std::array<size_t, kColumnCount> index_{};
  Memo region_memo_, country_memo_, status_memo_, sex_memo_, age_memo_;
  // Valid cells seen so far -> the row that first held them. Only valid cells
  // get in, so the map is bounded by the product of the code lists (at most a
  // few tens of thousands of short keys), whatever the size of the file.
  std::unordered_map<std::string, uint64_t> seen_;
};

std::optional<Fault> Tkm1Adapter::CheckCodes(const std::vector<std::string>& cells,
                                             CellRecord& cell) {
  const Tables& tables = GetTables();

  const char* region = region_memo_.Get(
      Cell(cells, kRegion), [&](std::string_view v) { return Lookup(tables.regions, v); });
  if (region == nullptr) {
    return Fault{kRegion, "unknown_region",
                 "the welaýat is not one of Aşgabat, Ahal, Balkan, Daşoguz, Lebap, Mary"};
  }
  const char* coo = country_memo_.Get(Cell(cells, kCountry), CountryFor);
  if (coo == nullptr) {
    return Fault{kCountry, "unknown_country",
                 "the citizenship is not an ISO 3166-1 alpha-3 code or XXA"};
  }
  const char* pop_type = status_memo_.Get(
      Cell(cells, kStatus), [&](std::string_view v) { return Lookup(tables.statuses, v); });
  if (pop_type == nullptr) {
    return Fault{kStatus, "unknown_status", "the status is not one of the tkm-1 status texts"};
  }
  const char* sex =
      sex_memo_.Get(Cell(cells, kSex), [&](std::string_view v) { return Lookup(tables.sexes, v); });
  if (sex == nullptr) {
    return Fault{kSex, "unknown_sex", "the sex is not erkek or aýal"};
  }
  const char* age =
      age_memo_.Get(Cell(cells, kAge), [&](std::string_view v) { return Lookup(tables.ages, v); });
  if (age == nullptr) {
    return Fault{kAge, "unknown_age",
                 "the age group is not one of 0-4, 5-11, 12-17, 18-59, 60+, näbelli"};
  }
  cell.region = region;
  cell.coo = coo;
  cell.pop_type = pop_type;
  cell.sex = sex;
  cell.age = age;
  return std::nullopt;
}

Status Tkm1Adapter::Run(ByteSource& input, const AdapterContext& context, RecordSink& sink) {
  const std::string charset = context.charset.empty() ? "utf-8" : context.charset;
  if (!IsProfileCharset(charset)) {
    // Echo the uploader's name only when it is short printable ASCII.
    bool printable = charset.size() <= 40;
    for (char c : charset) printable = printable && c >= 0x20 && c < 0x7F;
    return Status::InvalidArgument(
        (printable ? "charset \"" + charset + "\"" : std::string("the charset")) +
        " is not accepted by tkm-1 (use utf-8)");
  }
  GW_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> utf8, MakeUtf8Source(input, charset));
  CsvOptions options;
  options.separator = ',';
  options.skip_bom = true;
  CsvReader reader(*utf8, options);

  std::vector<std::string> cells;
  GW_ASSIGN_OR_RETURN(const bool has_header, reader.Next(cells));
  if (!has_header) return Status::InvalidArgument("file is empty (no header)");

  const Tables& tables = GetTables();
  std::array<bool, kColumnCount> present{};
  for (size_t i = 0; i < cells.size(); ++i) {
    const std::string key = FoldKey(cells[i]);
    for (size_t c = 0; c < kColumnCount; ++c) {
      if (key != tables.header_keys[c]) continue;
      if (present[c]) {
        return Status::InvalidArgument("column \"" + std::string(kHeaders[c]) +
                                       "\" appears twice in header (line " +
                                       std::to_string(reader.line()) + ")");
      }
      present[c] = true;
      index_[c] = i;
    }
  }
  for (size_t c = 0; c < kColumnCount; ++c) {
    if (!present[c]) {
      return Status::InvalidArgument("missing required column \"" + std::string(kHeaders[c]) +
                                     "\" in header (line " + std::to_string(reader.line()) + ")");
    }
  }
  const size_t width = cells.size();
  const std::string ref_iso = context.ref_date.ToIso();
  seen_.clear();

  while (true) {
    GW_ASSIGN_OR_RETURN(const bool more, reader.Next(cells));
    if (!more) break;
    const uint64_t row = reader.record_index();
    auto where = [&] {
      return "row " + std::to_string(row) + " (line " + std::to_string(reader.line()) + ")";
    };
    if (cells.size() != width) {
      GW_RETURN_IF_ERROR(
          sink.OnRowError(RowError{row, "",
                                   "the row has " + std::to_string(cells.size()) +
                                       " fields but the header has " + std::to_string(width),
                                   "bad_row"}));
      continue;
    }

    // The file's date is echoed only once it parsed, so the message holds
    // nothing but an ISO date.
    const std::optional<Date> date = ParseIsoDate(Cell(cells, kDate));
    if (!date) {
      return Status::InvalidArgument(where() +
                                     ": column \"senesi\" is not a date YYYY-MM-DD; it "
                                     "must be the snapshot's reference date " +
                                     ref_iso + " on every row, so the file is refused");
    }
    if (*date != context.ref_date) {
      return Status::InvalidArgument(where() + ": column \"senesi\" is " + date->ToIso() +
                                     ", not the snapshot's reference date " + ref_iso +
                                     "; a table for another date refuses the file");
    }
    const std::optional<int64_t> count = ParseCount(Cell(cells, kCount));
    if (!count) {
      return Status::InvalidArgument(
          where() +
          ": column \"sany\" is not a whole number from 0 to 10000000 (digits only, "
          "no sign, decimals or separators); a bad count refuses the file");
    }

    CellRecord cell;
    if (std::optional<Fault> fault = CheckCodes(cells, cell)) {
      GW_RETURN_IF_ERROR(
          sink.OnRowError(RowError{row, kHeaders[fault->column], fault->reason, fault->kind}));
      continue;
    }

    // `senesi` is the same on every row, so the five codes are the key.
    std::string key;
    for (const std::string* part :
         {&cell.region, &cell.coo, &cell.pop_type, &cell.sex, &cell.age}) {
      key += *part;
      key += '|';
    }
    auto [it, inserted] = seen_.emplace(std::move(key), row);
    if (!inserted) {
      return Status::InvalidArgument(
          where() +
          ": the cell (senesi, welaýat, raýatlygy, status, jynsy, ýaş_topary) "
          "already appears on row " +
          std::to_string(it->second) + "; a duplicate cell refuses the file");
    }

    cell.count = *count;
    // A zero count is a valid cell; the pipeline decides what to store for it.
    GW_RETURN_IF_ERROR(sink.OnCell(row, std::move(cell)));
  }
  return Status::Ok();
}

}  // namespace

std::unique_ptr<Adapter> NewAdapter() { return std::make_unique<Tkm1Adapter>(); }

}  // namespace gw::tkm1

GW_REGISTER_ADAPTER(tkm1, gw::AdapterInfo{"tkm-1",
                                          "TKM",
                                          "Turkmenistan, State Migration Service aggregate table "
                                          "(CSV, ',', UTF-8; counts, not persons)",
                                          {"utf-8"},
                                          "text/csv",
                                          [] { return gw::tkm1::NewAdapter(); }});
