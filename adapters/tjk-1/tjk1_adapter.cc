// tjk-1: Tajikistan, Ministry of Internal Affairs register. See FORMATS.md for
// the profile; every rule of it is checked in CheckRow(), in the order of the
// profile's column table, and the first failing rule is the row's error. The
// case-file number's agreement with the registration year is checked as soon
// as the registration date is known.
#include "adapters/tjk-1/tjk1_adapter.h"

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

namespace gw::tjk1 {
namespace {

// ---------------------------------------------------------------------------
// The profile's tables. Texts are written as in FORMATS.md and compared after
// FoldKey (NFC, trimmed, case-folded), so case and NFD input do not matter.

enum Column {
  kCaseNumber,
  kSurname,
  kGivenName,
  kPatronymic,
  kBirthDate,
  kSex,
  kCitizenship,
  kStatus,
  kRegion,
  kRegistered,
  kValidUntil,
  kColumnCount
};

struct ColumnSpec {
  const char* header;
  bool required;
};

constexpr std::array<ColumnSpec, kColumnCount> kColumns = {{
    {"Рақами парванда", true},
    {"Насаб", true},
    {"Ном", true},
    {"Номи падар", false},  // read by nobody: optional and never stored
    {"Санаи таваллуд", true},
    {"Ҷинс", true},
    {"Шаҳрвандӣ", true},
    {"Мақом", true},
    {"Минтақа", true},
    {"Санаи бақайдгирӣ", true},
    // The cell may be empty, but the column is part of the profile: a file
    // without it cannot say which statuses expired.
    {"Мӯҳлати эътибор", true},
}};

struct Mapping {
  const char* text;
  const char* code;
};

constexpr Mapping kSexes[] = {
    {"мард", "M"},
    {"зан", "F"},
};

constexpr Mapping kStatuses[] = {
    {"гуреза", "REF"},
    {"паноҳҷӯ", "ASY"},
    {"шахси бешаҳрванд", "STA"},
    {"муҳоҷири меҳнатӣ", "MIG"},
};

constexpr Mapping kRegions[] = {
    {"ш. Душанбе", "TJ-DU"}, {"вилояти Суғд", "TJ-SU"}, {"вилояти Хатлон", "TJ-KT"},
    {"ВМКБ", "TJ-GB"},  // Вилояти Мухтори Кӯҳистони Бадахшон
    {"НТҶ", "TJ-RA"},   // Ноҳияҳои тобеи ҷумҳурӣ
};

// Tajik country names; the codes are looked up in the shared code lists.
constexpr Mapping kCountries[] = {
    {"Афғонистон", "AFG"},
    {"Эрон", "IRN"},
    {"Покистон", "PAK"},
    {"Сурия", "SYR"},
    {"Ироқ", "IRQ"},
    {"Ӯзбекистон", "UZB"},
    {"Қирғизистон", "KGZ"},
    {"Қазоқистон", "KAZ"},
    {"Туркманистон", "TKM"},
    {"Русия", "RUS"},
    {"Украина", "UKR"},
    {"Чин", "CHN"},
    {"Ҳиндустон", "IND"},
    {"Туркия", "TUR"},
    {"Озарбойҷон", "AZE"},
    {"Арманистон", "ARM"},
    {"Гурҷистон", "GEO"},
    {"Беларус", "BLR"},
    {"Молдова", "MDA"},
    {"Бангладеш", "BGD"},
    {"Яман", "YEM"},
    {"Сомалӣ", "SOM"},
    // "without citizenship" and "unknown".
    {"бешаҳрванд", "XXA"},
    {"номаълум", "UNK"},
};

// "ш.", "ш " and "шаҳри" ("city of") are one prefix: "ш.Душанбе", "ш Душанбе"
// and "шаҳри Душанбе" all become "ш. душанбе". Works on a FoldKey, so lower
// case; FoldKey has already collapsed inner white space.
std::string RegionKey(std::string_view text) {
  std::string key = FoldKey(text);
  static const std::string kPrefixes[] = {"шаҳри ", "ш.", "ш "};
  for (const std::string& prefix : kPrefixes) {
    if (key.size() > prefix.size() && key.compare(0, prefix.size(), prefix) == 0) {
      return "ш. " + std::string(TrimSpace(std::string_view(key).substr(prefix.size())));
    }
  }
  return key;
}

std::string PlainKey(std::string_view text) { return FoldKey(text); }

using KeyMap = std::unordered_map<std::string, const char*>;

KeyMap BuildMap(const Mapping* begin, const Mapping* end, std::string (*key)(std::string_view)) {
  KeyMap map;
  for (const Mapping* m = begin; m != end; ++m) map.emplace(key(m->text), m->code);
  return map;
}

struct Tables {
  std::array<std::string, kColumnCount> header_keys;
  KeyMap sexes, statuses, regions, countries;
};

const Tables& GetTables() {
  static const Tables tables = [] {
    Tables t;
    for (size_t c = 0; c < kColumnCount; ++c) t.header_keys[c] = FoldKey(kColumns[c].header);
    t.sexes = BuildMap(std::begin(kSexes), std::end(kSexes), PlainKey);
    t.statuses = BuildMap(std::begin(kStatuses), std::end(kStatuses), PlainKey);
    t.regions = BuildMap(std::begin(kRegions), std::end(kRegions), RegionKey);
    // Point at the code lists' own strings: a code missing there maps to
    // nothing, so a typo in this table cannot produce a code outside the lists.
    for (const Mapping& m : kCountries) {
      const Country* country = CodeLists::Get().CountryByAlpha3(m.code);
      if (country != nullptr) t.countries.emplace(FoldKey(m.text), country->alpha3.c_str());
    }
    return t;
  }();
  return tables;
}

const char* Lookup(const KeyMap& map, const std::string& key) {
  auto it = map.find(key);
  return it == map.end() ? nullptr : it->second;
}

// A bounded memo from raw cell text to its code. Code columns repeat a few
// values over millions of rows; this keeps ICU out of the loop for them. The
// bound keeps hostile input (every value distinct) from growing memory.
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

// The case-file number: exactly "YY-NNNNNN" in ASCII digits.
bool IsCaseNumber(std::string_view s) {
  if (s.size() != 9 || s[2] != '-') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 2) continue;
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

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

class Tjk1Adapter : public Adapter {
 public:
  Status Run(ByteSource& input, const AdapterContext& context, RecordSink& sink) override;

 private:
  // Validates one data row; on success fills `person`.
  std::optional<Fault> CheckRow(const std::vector<std::string>& cells, const Date& ref,
                                PersonRecord& person);

  std::array<size_t, kColumnCount> index_{};
  std::array<bool, kColumnCount> present_{};
  Memo sex_memo_, country_memo_, status_memo_, region_memo_;
};

std::optional<Fault> Tjk1Adapter::CheckRow(const std::vector<std::string>& cells, const Date& ref,
                                           PersonRecord& person) {
  auto cell = [&](Column c) -> std::string_view {
    return present_[c] ? TrimSpace(cells[index_[c]]) : std::string_view();
  };
  const Tables& tables = GetTables();

  // Рақами парванда
  const std::string_view case_number = cell(kCaseNumber);
  if (!IsCaseNumber(case_number)) {
    return Fault{kCaseNumber, "bad_id_format",
                 case_number.empty() ? "the case-file number is empty"
                                     : "the case-file number is not of the form YY-NNNNNN"};
  }

  // Names are required but never stored.
  if (cell(kSurname).empty()) return Fault{kSurname, "missing_name", "the surname is empty"};
  if (cell(kGivenName).empty()) return Fault{kGivenName, "missing_name", "the given name is empty"};

  const std::optional<PartialDate> birth =
      ParsePartialDate(cell(kBirthDate), DateOrder::kDayMonthYear, '/');
  if (!birth) {
    return Fault{kBirthDate, "bad_date",
                 "the birth date is not a date DD/MM/YYYY (00 for an unknown day or month)"};
  }
  // Only a birth date that is after the reference date whatever its unknown
  // parts stand for is an error: a partial date gets the benefit of the doubt.
  const std::optional<Date> birth_earliest = birth->Earliest();
  if (birth_earliest && *birth_earliest > ref) {
    return Fault{kBirthDate, "future_birth", "the birth date is after the reference date"};
  }

  const char* sex = sex_memo_.Get(
      cell(kSex), [&](std::string_view v) { return Lookup(tables.sexes, FoldKey(v)); });
  if (sex == nullptr) return Fault{kSex, "unknown_sex", "the sex is not мард or зан"};

  const char* coo = country_memo_.Get(
      cell(kCitizenship), [&](std::string_view v) { return Lookup(tables.countries, FoldKey(v)); });
  if (coo == nullptr) {
    return Fault{kCitizenship, "unknown_country",
                 "the citizenship is not a country name of the tjk-1 table, бешаҳрванд or "
                 "номаълум"};
  }

  const char* pop_type = status_memo_.Get(
      cell(kStatus), [&](std::string_view v) { return Lookup(tables.statuses, FoldKey(v)); });
  if (pop_type == nullptr) {
    return Fault{kStatus, "unknown_status", "the status is not one of the tjk-1 status texts"};
  }

  const char* region = region_memo_.Get(
      cell(kRegion), [&](std::string_view v) { return Lookup(tables.regions, RegionKey(v)); });
  if (region == nullptr) {
    return Fault{kRegion, "unknown_region", "the region is not in the tjk-1 region table"};
  }

  const std::optional<Date> registered =
      ParseDate(cell(kRegistered), DateOrder::kDayMonthYear, '/');
  if (!registered) {
    return Fault{kRegistered, "bad_date", "the registration date is not a real date DD/MM/YYYY"};
  }
  const int case_year = (case_number[0] - '0') * 10 + (case_number[1] - '0');
  if (case_year != registered->year % 100) {
    return Fault{kCaseNumber, "case_year_mismatch",
                 "the year in the case-file number does not agree with the registration date"};
  }
  if (birth_earliest && *registered < *birth_earliest) {
    return Fault{kRegistered, "reg_before_birth", "the registration date is before the birth date"};
  }

  std::optional<Date> valid_until;
  if (const std::string_view until = cell(kValidUntil); !until.empty()) {
    valid_until = ParseDate(until, DateOrder::kDayMonthYear, '/');
    if (!valid_until) {
      return Fault{kValidUntil, "bad_date",
                   "the status validity date is not a real date DD/MM/YYYY"};
    }
    if (*valid_until < *registered) {
      return Fault{kValidUntil, "until_before_reg",
                   "the status validity date is before the registration date"};
    }
  }

  std::string age = CodeLists::Get().AgeBandAt(*birth, ref);

  person.person_id.assign(case_number);
  person.id_field = kColumns[kCaseNumber].header;
  person.pop_type = pop_type;
  person.coo = coo;
  person.sex = sex;
  person.age = std::move(age);
  person.region = region;
  person.registered = *registered;
  person.valid_until = valid_until;
  return std::nullopt;
}

Status Tjk1Adapter::Run(ByteSource& input, const AdapterContext& context, RecordSink& sink) {
  const std::string charset = context.charset.empty() ? "utf-8" : context.charset;
  if (!IsProfileCharset(charset)) {
    // Echo the uploader's name only when it is short printable ASCII.
    bool printable = charset.size() <= 40;
    for (char c : charset) printable = printable && c >= 0x20 && c < 0x7F;
    return Status::InvalidArgument(
        (printable ? "charset \"" + charset + "\"" : std::string("the charset")) +
        " is not accepted by tjk-1 (use utf-8)");
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
  present_.fill(false);
  for (size_t i = 0; i < cells.size(); ++i) {
    const std::string key = FoldKey(cells[i]);
    for (size_t c = 0; c < kColumnCount; ++c) {
      if (key != tables.header_keys[c]) continue;
      if (present_[c]) {
        return Status::InvalidArgument("column \"" + std::string(kColumns[c].header) +
                                       "\" appears twice in header (line " +
                                       std::to_string(reader.line()) + ")");
      }
      present_[c] = true;
      index_[c] = i;
    }
  }
  for (size_t c = 0; c < kColumnCount; ++c) {
    if (kColumns[c].required && !present_[c]) {
      return Status::InvalidArgument("missing required column \"" +
                                     std::string(kColumns[c].header) + "\" in header (line " +
                                     std::to_string(reader.line()) + ")");
    }
  }
  const size_t width = cells.size();

  while (true) {
    GW_ASSIGN_OR_RETURN(const bool more, reader.Next(cells));
    if (!more) break;
    const uint64_t row = reader.record_index();
    if (cells.size() != width) {
      GW_RETURN_IF_ERROR(
          sink.OnRowError(RowError{row, "",
                                   "the row has " + std::to_string(cells.size()) +
                                       " fields but the header has " + std::to_string(width),
                                   "bad_row"}));
      continue;
    }
    PersonRecord person;
    if (std::optional<Fault> fault = CheckRow(cells, context.ref_date, person)) {
      GW_RETURN_IF_ERROR(sink.OnRowError(
          RowError{row, kColumns[fault->column].header, fault->reason, fault->kind}));
      continue;
    }
    GW_RETURN_IF_ERROR(sink.OnPerson(row, std::move(person)));
  }
  return Status::Ok();
}

}  // namespace

std::unique_ptr<Adapter> NewAdapter() { return std::make_unique<Tjk1Adapter>(); }

}  // namespace gw::tjk1

GW_REGISTER_ADAPTER(tjk1, gw::AdapterInfo{"tjk-1",
                                          "TJK",
                                          "Tajikistan, Ministry of Internal Affairs register "
                                          "(CSV, ',', UTF-8)",
                                          {"utf-8"},
                                          "text/csv",
                                          [] { return gw::tjk1::NewAdapter(); }});
