// kaz-1: Kazakhstan, Migration Service register. See FORMATS.md for the
// profile; every rule of it is checked in CheckRow(), in the order of the
// profile's column table, and the first failing rule is the row's error.
#include "adapters/kaz-1/kaz1_adapter.h"

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "adapters/kaz-1/iin.h"
#include "gateway/common/csv_reader.h"
#include "gateway/common/date.h"
#include "gateway/common/text.h"
#include "gateway/common/transcode.h"
#include "gateway/schema/adapter_registry.h"
#include "gateway/schema/codelists.h"

namespace gw::kaz1 {
namespace {

// ---------------------------------------------------------------------------
// The profile's tables. Texts are written as in FORMATS.md and compared after
// FoldKey (NFC, trimmed, case-folded), so case and NFD input do not matter.

enum Column {
  kIin,
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
    {"ЖСН/ИИН", true},
    {"Тегі/Фамилия", true},
    {"Аты/Имя", true},
    {"Әкесінің аты/Отчество", false},  // read by nobody: optional and never stored
    {"Туған күні/Дата рождения", true},
    {"Жынысы/Пол", true},
    {"Азаматтығы/Гражданство", true},
    {"Мәртебесі/Статус", true},
    {"Облыс/Область", true},
    {"Тіркелген күні/Дата регистрации", true},
    {"Мәртебе мерзімі/Срок действия статуса", true},
}};

struct Mapping {
  const char* text;
  const char* code;
};

// Russian М(ужской)/Ж(енский) and Kazakh Е(р)/Ә(йел).
constexpr Mapping kSexes[] = {
    {"М", "M"},
    {"Е", "M"},
    {"Ж", "F"},
    {"Ә", "F"},
};

constexpr Mapping kStatuses[] = {
    {"беженец", "REF"},
    {"лицо, ищущее убежище", "ASY"},
    {"лицо без гражданства", "STA"},
    {"трудящийся-мигрант", "MIG"},
};

constexpr Mapping kRegions[] = {
    {"Абайская область", "KZ-10"},
    {"Акмолинская область", "KZ-11"},
    {"Актюбинская область", "KZ-15"},
    {"Алматинская область", "KZ-19"},
    {"Атырауская область", "KZ-23"},
    {"Западно-Казахстанская область", "KZ-27"},
    {"Жамбылская область", "KZ-31"},
    {"Жетысуская область", "KZ-33"},
    {"Карагандинская область", "KZ-35"},
    {"Костанайская область", "KZ-39"},
    {"Кызылординская область", "KZ-43"},
    {"Мангистауская область", "KZ-47"},
    {"Павлодарская область", "KZ-55"},
    {"Северо-Казахстанская область", "KZ-59"},
    {"Туркестанская область", "KZ-61"},
    {"Улытауская область", "KZ-62"},
    {"Восточно-Казахстанская область", "KZ-63"},
    {"г. Астана", "KZ-71"},
    {"г. Алматы", "KZ-75"},
    {"г. Шымкент", "KZ-79"},
    // Legacy names still found in older rows.
    {"Южно-Казахстанская область", "KZ-61"},  // renamed Turkestan region in 2018
    {"г. Нур-Султан", "KZ-71"},               // the capital's name 2019-2022
};

constexpr char kStateless[] = "ЛБГ";  // лицо без гражданства → XXA
constexpr char kUnknownCountry[] = "-";

// "г.", "г " and "город" are one prefix: "город Алматы", "г.Алматы" and
// "г. Алматы" all become "г. алматы". Works on a FoldKey, so lower case.
std::string RegionKey(std::string_view text) {
  std::string key = FoldKey(text);
  static const std::string kPrefixes[] = {"город ", "г.", "г "};
  for (const std::string& prefix : kPrefixes) {
    if (key.size() > prefix.size() && key.compare(0, prefix.size(), prefix) == 0) {
      return "г. " + std::string(TrimSpace(std::string_view(key).substr(prefix.size())));
    }
  }
  return key;
}

using KeyMap = std::unordered_map<std::string, const char*>;

KeyMap BuildMap(const Mapping* begin, const Mapping* end, std::string (*key)(std::string_view)) {
  KeyMap map;
  for (const Mapping* m = begin; m != end; ++m) map.emplace(key(m->text), m->code);
  return map;
}

std::string PlainKey(std::string_view text) { return FoldKey(text); }

struct Tables {
  std::array<std::string, kColumnCount> header_keys;
  KeyMap sexes, statuses, regions;
  std::string stateless_key;
};

const Tables& GetTables() {
  static const Tables tables = [] {
    Tables t;
    for (size_t c = 0; c < kColumnCount; ++c) t.header_keys[c] = FoldKey(kColumns[c].header);
    t.sexes = BuildMap(std::begin(kSexes), std::end(kSexes), PlainKey);
    t.statuses = BuildMap(std::begin(kStatuses), std::end(kStatuses), PlainKey);
    t.regions = BuildMap(std::begin(kRegions), std::end(kRegions), RegionKey);
    t.stateless_key = FoldKey(kStateless);
    return t;
  }();
  return tables;
}

// Looks a citizenship value up: the key from FoldKey, then ISO alpha-3. XXA and
// UNK are in the code lists but are not ISO 3166-1 codes; the profile spells
// them ЛБГ and "-", so the raw codes are refused.
const char* CountryFor(std::string_view raw) {
  const std::string key = FoldKey(raw);
  if (key == GetTables().stateless_key) return "XXA";
  if (key == kUnknownCountry) return "UNK";
  if (key.size() != 3) return nullptr;
  std::string code(3, ' ');
  for (size_t i = 0; i < 3; ++i) {
    if (key[i] < 'a' || key[i] > 'z') return nullptr;
    code[i] = static_cast<char>(key[i] - ('a' - 'A'));
  }
  if (code == "XXA" || code == "UNK") return nullptr;
  const Country* country = CodeLists::Get().CountryByAlpha3(code);
  return country == nullptr ? nullptr : country->alpha3.c_str();
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

const char* Lookup(const KeyMap& map, const std::string& key) {
  auto it = map.find(key);
  return it == map.end() ? nullptr : it->second;
}

// The profile allows UTF-8 and RK1048 only: another charset that iconv knows
// (say windows-1251, which differs in the Kazakh letters) would decode to
// plausible but wrong text.
bool IsProfileCharset(const std::string& charset) {
  std::string lower = charset;
  for (char& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  for (const char* ok : {"utf-8", "utf8", "rk1048", "kz-1048", "kz1048"})
    if (lower == ok) return true;
  return false;
}

// ---------------------------------------------------------------------------

struct Fault {
  Column column;
  const char* kind;
  const char* reason;  // never holds the value itself
};

class Kaz1Adapter : public Adapter {
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

std::optional<Fault> Kaz1Adapter::CheckRow(const std::vector<std::string>& cells, const Date& ref,
                                           PersonRecord& person) {
  auto cell = [&](Column c) -> std::string_view {
    return present_[c] ? TrimSpace(cells[index_[c]]) : std::string_view();
  };
  const Tables& tables = GetTables();

  // ЖСН/ИИН
  const std::string_view iin_text = cell(kIin);
  IinInfo iin;
  switch (ParseIin(iin_text, &iin)) {
    case IinFault::kNone:
      break;
    case IinFault::kFormat:
      return Fault{kIin, "bad_id_format",
                   iin_text.empty() ? "the IIN is empty" : "the IIN is not exactly 12 digits"};
    case IinFault::kChecksum:
      return Fault{kIin, "bad_checksum", "the IIN check digit is wrong"};
    case IinFault::kCentury:
      return Fault{kIin, "bad_id_format",
                   "the IIN's seventh digit (century and sex) is not between 1 and 6"};
    case IinFault::kDate:
      return Fault{kIin, "bad_id_format", "the IIN's first six digits are not a real date"};
  }

  // Names are required but never stored.
  if (cell(kSurname).empty()) return Fault{kSurname, "missing_name", "the surname is empty"};
  if (cell(kGivenName).empty()) return Fault{kGivenName, "missing_name", "the given name is empty"};

  // Birth date, and its agreement with the IIN (only the parts that are known).
  const std::optional<PartialDate> birth =
      ParsePartialDate(cell(kBirthDate), DateOrder::kDayMonthYear, '.');
  if (!birth) {
    return Fault{kBirthDate, "bad_date",
                 "the birth date is not a date DD.MM.YYYY (00 for an unknown day or month)"};
  }
  const std::optional<Date> birth_earliest = birth->Earliest();
  if (birth_earliest && *birth_earliest > ref) {
    return Fault{kBirthDate, "future_birth", "the birth date is after the reference date"};
  }
  if (birth->year != 0 &&
      (birth->year != iin.birth.year || (birth->month != 0 && birth->month != iin.birth.month) ||
       (birth->day != 0 && birth->day != iin.birth.day))) {
    return Fault{kIin, "id_birth_mismatch",
                 "the birth date in the IIN does not agree with the birth date column"};
  }

  const char* sex = sex_memo_.Get(
      cell(kSex), [&](std::string_view v) { return Lookup(tables.sexes, FoldKey(v)); });
  if (sex == nullptr) {
    return Fault{kSex, "unknown_sex", "the sex is not one of М, Е, Ж, Ә"};
  }
  if (sex[0] != iin.sex) {
    return Fault{kIin, "id_sex_mismatch",
                 "the sex digit of the IIN does not agree with the sex column"};
  }

  const char* coo = country_memo_.Get(cell(kCitizenship), CountryFor);
  if (coo == nullptr) {
    return Fault{kCitizenship, "unknown_country",
                 "the citizenship is not an ISO 3166-1 alpha-3 code, ЛБГ or -"};
  }

  const char* pop_type = status_memo_.Get(
      cell(kStatus), [&](std::string_view v) { return Lookup(tables.statuses, FoldKey(v)); });
  if (pop_type == nullptr) {
    return Fault{kStatus, "unknown_status", "the status is not one of the kaz-1 status texts"};
  }

  const char* region = region_memo_.Get(
      cell(kRegion), [&](std::string_view v) { return Lookup(tables.regions, RegionKey(v)); });
  if (region == nullptr) {
    return Fault{kRegion, "unknown_region", "the region is not in the kaz-1 region table"};
  }

  const std::optional<Date> registered =
      ParseDate(cell(kRegistered), DateOrder::kDayMonthYear, '.');
  if (!registered) {
    return Fault{kRegistered, "bad_date", "the registration date is not a real date DD.MM.YYYY"};
  }
  if (*registered > ref) {
    return Fault{kRegistered, "future_registration",
                 "the registration date is after the reference date"};
  }
  // Only a registration before every date the birth date may stand for is an
  // error: a partial birth date gets the benefit of the doubt.
  if (birth_earliest && *registered < *birth_earliest) {
    return Fault{kRegistered, "reg_before_birth", "the registration date is before the birth date"};
  }

  std::optional<Date> valid_until;
  if (const std::string_view until = cell(kValidUntil); !until.empty()) {
    valid_until = ParseDate(until, DateOrder::kDayMonthYear, '.');
    if (!valid_until) {
      return Fault{kValidUntil, "bad_date",
                   "the status validity date is not a real date DD.MM.YYYY"};
    }
    if (*valid_until < *registered) {
      return Fault{kValidUntil, "until_before_reg",
                   "the status validity date is before the registration date"};
    }
  }

  std::string age = CodeLists::Get().AgeBandAt(*birth, ref);

  person.person_id.assign(iin_text);
  person.id_field = kColumns[kIin].header;
  person.pop_type = pop_type;
  person.coo = coo;
  person.sex = sex;
  person.age = std::move(age);
  person.region = region;
  person.registered = *registered;
  person.valid_until = valid_until;
  return std::nullopt;
}

Status Kaz1Adapter::Run(ByteSource& input, const AdapterContext& context, RecordSink& sink) {
  const std::string charset = context.charset.empty() ? "utf-8" : context.charset;
  if (!IsProfileCharset(charset)) {
    // Echo the uploader's name only when it is short printable ASCII.
    bool printable = charset.size() <= 40;
    for (char c : charset) printable = printable && c >= 0x20 && c < 0x7F;
    return Status::InvalidArgument(
        (printable ? "charset \"" + charset + "\"" : std::string("the charset")) +
        " is not accepted by kaz-1 (use utf-8 or rk1048)");
  }
  GW_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> utf8, MakeUtf8Source(input, charset));
  CsvOptions options;
  options.separator = ';';
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

std::unique_ptr<Adapter> NewAdapter() { return std::make_unique<Kaz1Adapter>(); }

}  // namespace gw::kaz1

GW_REGISTER_ADAPTER(kaz1, gw::AdapterInfo{"kaz-1",
                                          "KAZ",
                                          "Kazakhstan, Migration Service register (CSV, ';', "
                                          "UTF-8 or RK1048)",
                                          {"utf-8", "rk1048"},
                                          "text/csv",
                                          [] { return gw::kaz1::NewAdapter(); }});
