// uzb-1: Uzbekistan, Ministry of Internal Affairs (JSON). See FORMATS.md for
// the profile. The document is read with nlohmann::json's SAX interface: a
// small state machine (Handler) follows the root object, `eksport` and the
// `yozuvlar` items, and skips every other subtree. Each item's values are
// collected in a fixed set of slots and checked by CheckItem() when the item
// closes, in the order of the profile's field list; the first failing rule is
// the row's error. A structural fault of the item (a value of the wrong JSON
// type, a key given twice) comes before every other rule.
#include "adapters/uzb-1/uzb1_adapter.h"

#include <array>
#include <cstdint>
#include <exception>
#include <istream>
#include <new>
#include <optional>
#include <streambuf>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/uzb-1/pinfl.h"
#include "gateway/common/date.h"
#include "gateway/common/text.h"
#include "gateway/common/transcode.h"
#include "gateway/schema/adapter_registry.h"
#include "gateway/schema/codelists.h"

namespace gw::uzb1 {
namespace {

using Json = nlohmann::json;

// ---------------------------------------------------------------------------
// The profile's tables, written as in FORMATS.md and compared after UzKey().

enum Field {
  kJshshir,
  kFamiliya,
  kIsm,
  kOtasiningIsmi,
  kTugilganSana,
  kJinsi,
  kFuqaroligi,
  kMaqomi,
  kHudud,
  kRoyxatgaOlinganSana,
  kAmalQilishMuddati,
  kFieldCount
};

constexpr std::array<const char*, kFieldCount> kFieldKeys = {
    "jshshir",    "familiya", "ism",   "otasining_ismi",        "tugilgan_sana",       "jinsi",
    "fuqaroligi", "maqomi",   "hudud", "royxatga_olingan_sana", "amal_qilish_muddati",
};

struct Mapping {
  const char* text;
  const char* code;
};

constexpr Mapping kSexes[] = {
    {"erkak", "M"},
    {"ayol", "F"},
};

constexpr Mapping kStatuses[] = {
    {"qochqin", "REF"},  // UNHCR mandate refugee
    {"fuqaroligi yoʻq shaxs", "STA"},
    {"mehnat muhojiri", "MIG"},
};

// Asylum seeker: a real status elsewhere, but Uzbekistan has no national
// asylum procedure, so the profile refuses it with its own fault kind.
constexpr char kAsylumSeeker[] = "boshpana izlovchi";

constexpr Mapping kRegions[] = {
    {"Toshkent shahri", "UZ-TK"},      {"Toshkent viloyati", "UZ-TO"},
    {"Andijon viloyati", "UZ-AN"},     {"Buxoro viloyati", "UZ-BU"},
    {"Fargʻona viloyati", "UZ-FA"},    {"Jizzax viloyati", "UZ-JI"},
    {"Namangan viloyati", "UZ-NG"},    {"Navoiy viloyati", "UZ-NW"},
    {"Qashqadaryo viloyati", "UZ-QA"}, {"Qoraqalpogʻiston Respublikasi", "UZ-QR"},
    {"Samarqand viloyati", "UZ-SA"},   {"Sirdaryo viloyati", "UZ-SI"},
    {"Surxondaryo viloyati", "UZ-SU"}, {"Xorazm viloyati", "UZ-XO"},
};

// The six spellings of the Uzbek Latin letter mark (U+0027, U+02BB, U+02BC,
// U+2018, U+2019, U+0060) become U+0027. None of them has a decomposition or
// a case mapping, so doing this before FoldKey() cannot interact with NFC or
// folding; and it leaves most Uzbek Latin values pure ASCII, which keeps
// FoldKey() on its fast path.
std::string NormaliseApostrophes(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '`') {
      out.push_back('\'');
    } else if (c == 0xCA && i + 1 < s.size() &&
               (static_cast<unsigned char>(s[i + 1]) == 0xBB ||
                static_cast<unsigned char>(s[i + 1]) == 0xBC)) {
      out.push_back('\'');
      i += 1;
    } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(s[i + 2]) == 0x98 ||
                static_cast<unsigned char>(s[i + 2]) == 0x99)) {
      out.push_back('\'');
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The comparison key of keys and code values: apostrophes unified, then NFC,
// trimmed, inner white space collapsed, case-folded.
std::string UzKey(std::string_view text) { return FoldKey(NormaliseApostrophes(text)); }

using KeyMap = std::unordered_map<std::string, const char*>;

KeyMap BuildMap(const Mapping* begin, const Mapping* end) {
  KeyMap map;
  for (const Mapping* m = begin; m != end; ++m) map.emplace(UzKey(m->text), m->code);
  return map;
}

struct Tables {
  KeyMap sexes, statuses, regions;
  std::string asylum_key;
};

const Tables& GetTables() {
  static const Tables tables = [] {
    Tables t;
    t.sexes = BuildMap(std::begin(kSexes), std::end(kSexes));
    t.statuses = BuildMap(std::begin(kStatuses), std::end(kStatuses));
    t.regions = BuildMap(std::begin(kRegions), std::end(kRegions));
    t.asylum_key = UzKey(kAsylumSeeker);
    return t;
  }();
  return tables;
}

const char* Lookup(const KeyMap& map, std::string_view raw) {
  auto it = map.find(UzKey(raw));
  return it == map.end() ? nullptr : it->second;
}

// `fuqaroligi`: ISO 3166-1 numeric, exactly three ASCII digits.
const char* CountryForNumeric(std::string_view raw) {
  const std::string_view code = TrimSpace(raw);
  if (code.size() != 3) return nullptr;
  for (char c : code)
    if (c < '0' || c > '9') return nullptr;
  const Country* country = CodeLists::Get().CountryByNumeric(code);
  return country == nullptr ? nullptr : country->alpha3.c_str();
}

bool IsProfileCharset(const std::string& charset) {
  std::string lower = charset;
  for (char& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  return lower == "utf-8" || lower == "utf8";
}

// ---------------------------------------------------------------------------
// A std::streambuf over a ByteSource, so nlohmann's stream input adapter can
// pull from it. It knows the exact byte offset of the next character, and it
// refuses to run more than kMaxGap bytes past the last SAX event: nlohmann
// accumulates a whole token (a string, a number) in memory before reporting
// it, so this is what bounds memory per token.

constexpr uint64_t kMaxGap = 8 * 1024 * 1024;

class SourceBuf : public std::streambuf {
 public:
  explicit SourceBuf(ByteSource& source) : source_(source), buffer_(64 * 1024) {}

  // Offset of the next byte nlohmann will read (= bytes consumed so far).
  uint64_t position() const { return base_ + static_cast<uint64_t>(gptr() - eback()); }
  // Bytes read from the source so far.
  uint64_t bytes_read() const { return base_ + static_cast<uint64_t>(egptr() - eback()); }
  bool at_end() const { return at_end_; }
  const Status& status() const { return status_; }
  void MarkEvent() { last_event_ = position(); }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    base_ += static_cast<uint64_t>(egptr() - eback());
    setg(buffer_.data(), buffer_.data(), buffer_.data());
    if (!status_.ok() || at_end_) return traits_type::eof();
    if (base_ - last_event_ > kMaxGap) {
      status_ = Status::InvalidArgument("no JSON value or key ends within " +
                                        std::to_string(kMaxGap / (1024 * 1024)) +
                                        " MiB after byte " + std::to_string(last_event_) +
                                        "; a token this long is refused to keep memory bounded");
      return traits_type::eof();
    }
    Result<size_t> n = source_.Read(buffer_.data(), buffer_.size());
    if (!n.ok()) {
      status_ = n.status();
      return traits_type::eof();
    }
    if (*n == 0) {
      at_end_ = true;
      return traits_type::eof();
    }
    setg(buffer_.data(), buffer_.data(), buffer_.data() + *n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  ByteSource& source_;
  std::vector<char> buffer_;
  uint64_t base_ = 0;        // offset of eback()
  uint64_t last_event_ = 0;  // position() at the last SAX event
  bool at_end_ = false;
  Status status_;
};

// nlohmann's parse error text without anything of the document itself: its
// messages quote the offending token ("last read: '...'"), which may be part
// of an ID or a name.
std::string DescribeParseError(const std::string& what, const std::string& token) {
  std::string text = what;
  // "[json.exception.parse_error.101] parse error at line 3, column 7: ..." -> "..."
  if (text.rfind("[json.exception.", 0) == 0) {
    if (size_t p = text.find("] "); p != std::string::npos) text.erase(0, p + 2);
  }
  if (!token.empty()) {
    for (const std::string& quoted : {"; last read: '" + token + "'", " '" + token + "'"}) {
      for (size_t p; (p = text.find(quoted)) != std::string::npos;) text.erase(p, quoted.size());
    }
    // Whatever is left must not hold the token, however nlohmann phrased it.
    if (token.size() >= 3 && text.find(token) != std::string::npos) {
      text = "the document is not well-formed JSON";
    }
  }
  return text;
}

// ---------------------------------------------------------------------------
// One `yozuvlar` item as it streams past. The slots are reused from item to
// item, so their capacity is bounded by the longest value seen (itself bounded
// by kMaxGap).

struct Value {
  enum class Kind { kAbsent, kNull, kString } kind = Kind::kAbsent;
  std::string text;

  bool present() const { return kind == Kind::kString; }
};

struct Fault {
  Field field;
  const char* kind;
  std::string reason;  // never holds a value of the document
};

struct Item {
  std::array<Value, kFieldCount> values;
  std::array<bool, kFieldCount> seen{};
  std::optional<Fault> structural;  // the first wrong type or repeated key

  void Reset() {
    for (Value& v : values) {
      v.kind = Value::Kind::kAbsent;
      v.text.clear();
    }
    seen.fill(false);
    structural.reset();
  }
};

enum class JsonType { kNull, kBoolean, kNumber, kString, kObject, kArray };

const char* TypeName(JsonType t) {
  switch (t) {
    case JsonType::kNull:
      return "null";
    case JsonType::kBoolean:
      return "a boolean";
    case JsonType::kNumber:
      return "a number";
    case JsonType::kString:
      return "a string";
    case JsonType::kObject:
      return "an object";
    case JsonType::kArray:
      return "an array";
  }
  return "a value";
}

bool IsContainer(JsonType t) { return t == JsonType::kObject || t == JsonType::kArray; }

// Checks one complete item; on success fills `person`.
std::optional<Fault> CheckItem(const Item& item, const Date& ref, PersonRecord& person) {
  const Tables& tables = GetTables();
  auto text = [&](Field f) -> std::string_view {
    return item.values[f].present() ? TrimSpace(item.values[f].text) : std::string_view();
  };
  auto missing = [&](Field f) { return !item.values[f].present(); };

  // jshshir
  if (missing(kJshshir)) {
    return Fault{kJshshir, "bad_id_format", "the PINFL (jshshir) is missing or null"};
  }
  const std::string_view pinfl_text = text(kJshshir);
  PinflInfo pinfl;
  switch (ParsePinfl(pinfl_text, &pinfl)) {
    case PinflFault::kNone:
      break;
    case PinflFault::kFormat:
      return Fault{kJshshir, "bad_id_format",
                   pinfl_text.empty() ? "the PINFL (jshshir) is empty"
                                      : "the PINFL (jshshir) is not exactly 14 digits"};
    case PinflFault::kChecksum:
      return Fault{kJshshir, "bad_checksum", "the PINFL (jshshir) check digit is wrong"};
    case PinflFault::kCentury:
      return Fault{kJshshir, "bad_id_format",
                   "the PINFL's first digit (sex and century) is not between 1 and 6"};
    case PinflFault::kZeroCode:
      return Fault{kJshshir, "bad_id_format",
                   "the PINFL's region code (digits 8-10) or serial (digits 11-13) is 000"};
    case PinflFault::kDate:
      return Fault{kJshshir, "bad_id_format", "the PINFL's digits 2-7 are not a real date"};
  }

  // Names are required but never stored.
  if (text(kFamiliya).empty()) {
    return Fault{kFamiliya, "missing_name", "the surname (familiya) is missing or empty"};
  }
  if (text(kIsm).empty()) {
    return Fault{kIsm, "missing_name", "the given name (ism) is missing or empty"};
  }

  // Birth date, and its agreement with the PINFL (only the parts that are known).
  const std::optional<PartialDate> birth =
      ParsePartialDate(text(kTugilganSana), DateOrder::kDayMonthYear, '.');
  if (!birth) {
    return Fault{kTugilganSana, "bad_date",
                 missing(kTugilganSana)
                     ? "the birth date (tugilgan_sana) is missing or null"
                     : "the birth date (tugilgan_sana) is not a date DD.MM.YYYY (00 for an "
                       "unknown day or month)"};
  }
  const std::optional<Date> birth_earliest = birth->Earliest();
  if (birth_earliest && *birth_earliest > ref) {
    return Fault{kTugilganSana, "future_birth", "the birth date is after the reference date"};
  }
  if (birth->year != 0 && (birth->year != pinfl.birth.year ||
                           (birth->month != 0 && birth->month != pinfl.birth.month) ||
                           (birth->day != 0 && birth->day != pinfl.birth.day))) {
    return Fault{kJshshir, "id_birth_mismatch",
                 "the birth date in the PINFL does not agree with tugilgan_sana"};
  }

  const char* sex = missing(kJinsi) ? nullptr : Lookup(tables.sexes, text(kJinsi));
  if (sex == nullptr) {
    return Fault{kJinsi, "unknown_sex", "the sex (jinsi) is not erkak or ayol"};
  }
  if (sex[0] != pinfl.sex) {
    return Fault{kJshshir, "id_sex_mismatch",
                 "the sex digit of the PINFL does not agree with jinsi"};
  }

  // null is the profile's spelling of "stateless"; an absent key is not.
  const char* coo = nullptr;
  if (item.values[kFuqaroligi].kind == Value::Kind::kNull) {
    coo = "XXA";
  } else if (missing(kFuqaroligi)) {
    return Fault{kFuqaroligi, "unknown_country",
                 "the citizenship (fuqaroligi) is missing (use null for a stateless person)"};
  } else {
    coo = CountryForNumeric(text(kFuqaroligi));
    if (coo == nullptr) {
      return Fault{kFuqaroligi, "unknown_country",
                   "the citizenship (fuqaroligi) is not a three-digit ISO 3166-1 numeric code"};
    }
  }

  const std::string status_key = missing(kMaqomi) ? std::string() : UzKey(text(kMaqomi));
  if (!status_key.empty() && status_key == tables.asylum_key) {
    return Fault{kMaqomi, "asylum_in_uzb",
                 "Uzbekistan has no national asylum procedure, so the status \"boshpana "
                 "izlovchi\" (asylum seeker) cannot be reported under uzb-1"};
  }
  const auto status_it = tables.statuses.find(status_key);
  if (status_it == tables.statuses.end()) {
    return Fault{kMaqomi, "unknown_status",
                 "the status (maqomi) is not one of qochqin, fuqaroligi yoʻq shaxs, mehnat "
                 "muhojiri"};
  }
  const char* pop_type = status_it->second;

  const char* region = missing(kHudud) ? nullptr : Lookup(tables.regions, text(kHudud));
  if (region == nullptr) {
    return Fault{kHudud, "unknown_region", "the region (hudud) is not in the uzb-1 region table"};
  }

  const std::optional<Date> registered =
      ParseDate(text(kRoyxatgaOlinganSana), DateOrder::kDayMonthYear, '.');
  if (!registered) {
    return Fault{kRoyxatgaOlinganSana, "bad_date",
                 missing(kRoyxatgaOlinganSana)
                     ? "the registration date (royxatga_olingan_sana) is missing or null"
                     : "the registration date (royxatga_olingan_sana) is not a real date "
                       "DD.MM.YYYY"};
  }
  // A partial birth date gets the benefit of the doubt: only a registration
  // before every day it may stand for is an error.
  if (birth_earliest && *registered < *birth_earliest) {
    return Fault{kRoyxatgaOlinganSana, "reg_before_birth",
                 "the registration date is before the birth date"};
  }

  std::optional<Date> valid_until;
  switch (item.values[kAmalQilishMuddati].kind) {
    case Value::Kind::kNull:
      break;
    case Value::Kind::kAbsent:
      return Fault{kAmalQilishMuddati, "bad_date",
                   "the status validity date (amal_qilish_muddati) is missing (use null for no "
                   "expiry)"};
    case Value::Kind::kString:
      valid_until = ParseDate(text(kAmalQilishMuddati), DateOrder::kDayMonthYear, '.');
      if (!valid_until) {
        return Fault{kAmalQilishMuddati, "bad_date",
                     "the status validity date (amal_qilish_muddati) is not a real date "
                     "DD.MM.YYYY or null"};
      }
      if (*valid_until < *registered) {
        return Fault{kAmalQilishMuddati, "until_before_reg",
                     "the status validity date is before the registration date"};
      }
      break;
  }

  std::string age = CodeLists::Get().AgeBandAt(*birth, ref);

  person.person_id.assign(pinfl_text);
  person.id_field = kFieldKeys[kJshshir];
  person.pop_type = pop_type;
  person.coo = coo;
  person.sex = sex;
  person.age = std::move(age);
  person.region = region;
  person.registered = *registered;
  person.valid_until = valid_until;
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// The SAX handler. Containers it enters: the root object, `eksport`,
// `yozuvlar` and its items; everything else is skipped by depth counting.

// Index of `key` in `keys`, or -1. Exact first: keys almost always arrive as
// specified, and the folded comparison allocates.
template <size_t N>
int KeyIndex(const std::string& key, const std::array<const char*, N>& keys) {
  for (size_t i = 0; i < N; ++i)
    if (key == keys[i]) return static_cast<int>(i);
  const std::string folded = UzKey(key);
  for (size_t i = 0; i < N; ++i)
    if (folded == keys[i]) return static_cast<int>(i);
  return -1;
}

constexpr std::array<const char*, 2> kRootKeys = {"eksport", "yozuvlar"};
enum RootKey { kEksport, kYozuvlar };
constexpr std::array<const char*, 3> kEksportKeys = {"davlat", "holat_sanasi", "versiya"};
enum EksportKey { kDavlat, kHolatSanasi, kVersiya };

class Handler final : public Json::json_sax_t {
 public:
  Handler(SourceBuf& buf, const AdapterContext& context, RecordSink& sink)
      : buf_(buf), context_(context), sink_(sink) {}

  // The first fault that stopped the parse (a sink's status included).
  const Status& fault() const { return fault_; }
  // Whole-document checks once the parse has completed.
  Status Finish() const;

  bool null() override { return OnValue(JsonType::kNull, nullptr); }
  bool boolean(bool) override { return OnValue(JsonType::kBoolean, nullptr); }
  bool number_integer(number_integer_t val) override {
    number_ = static_cast<double>(val);
    return OnValue(JsonType::kNumber, nullptr);
  }
  bool number_unsigned(number_unsigned_t val) override {
    number_ = static_cast<double>(val);
    return OnValue(JsonType::kNumber, nullptr);
  }
  bool number_float(number_float_t val, const string_t&) override {
    number_ = val;
    return OnValue(JsonType::kNumber, nullptr);
  }
  bool string(string_t& val) override { return OnValue(JsonType::kString, &val); }
  bool binary(binary_t&) override {  // never produced by the JSON parser
    std::string none;
    return OnValue(JsonType::kString, &none);
  }
  bool start_object(std::size_t) override { return OnValue(JsonType::kObject, nullptr); }
  bool start_array(std::size_t) override { return OnValue(JsonType::kArray, nullptr); }
  bool end_object() override { return OnEnd(); }
  bool end_array() override { return OnEnd(); }
  bool key(string_t& val) override;
  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& ex) override;

 private:
  enum class Where { kTop, kRoot, kEksport, kItems, kItem, kDone };

  bool OnValue(JsonType type, std::string* text);
  bool OnEksportValue(JsonType type, std::string* text);
  bool OnItemValue(JsonType type, std::string* text);
  bool OnEnd();
  bool FinishItem();
  Status CheckEksport() const;

  // Whole-file fault at the current position; stops the parse.
  bool Fail(const std::string& what) {
    const uint64_t pos = buf_.position();
    fault_ =
        Status::InvalidArgument(what + " (near byte " + std::to_string(pos ? pos - 1 : 0) + ")");
    return false;
  }
  bool Check(Status s) {
    if (s.ok()) return true;
    fault_ = std::move(s);
    return false;
  }
  void SetStructural(Field f, const char* kind, std::string reason) {
    if (!item_.structural) item_.structural = Fault{f, kind, std::move(reason)};
  }

  SourceBuf& buf_;
  const AdapterContext& context_;
  RecordSink& sink_;
  Status fault_;

  Where where_ = Where::kTop;
  int64_t skip_ = 0;  // depth inside a skipped container; 0 when not skipping
  int key_ = -1;      // the pending key of the current object (index in its table), -1 unknown

  bool seen_eksport_ = false, seen_yozuvlar_ = false;
  std::array<bool, kEksportKeys.size()> seen_eksport_key_{};
  std::optional<std::string> davlat_, holat_sanasi_;
  std::optional<bool> versiya_ok_;
  double number_ = 0;  // the value of the number being reported

  uint64_t row_ = 0;
  Item item_;
  PersonRecord person_;
};

bool Handler::key(string_t& val) {
  buf_.MarkEvent();
  if (skip_ > 0) return true;
  switch (where_) {
    case Where::kRoot:
      key_ = KeyIndex(val, kRootKeys);
      if (key_ == kEksport) {
        if (seen_eksport_) return Fail("the root object has the key \"eksport\" twice");
        seen_eksport_ = true;
      } else if (key_ == kYozuvlar) {
        if (seen_yozuvlar_) return Fail("the root object has the key \"yozuvlar\" twice");
        seen_yozuvlar_ = true;
      }
      return true;
    case Where::kEksport:
      key_ = KeyIndex(val, kEksportKeys);
      if (key_ >= 0) {
        if (seen_eksport_key_[static_cast<size_t>(key_)]) {
          return Fail(std::string("\"eksport\" has the key \"") + kEksportKeys[key_] + "\" twice");
        }
        seen_eksport_key_[static_cast<size_t>(key_)] = true;
      }
      return true;
    case Where::kItem:
      key_ = KeyIndex(val, kFieldKeys);
      if (key_ >= 0) {
        const Field f = static_cast<Field>(key_);
        if (item_.seen[f]) {
          SetStructural(f, "duplicate_key",
                        std::string("the item has the key \"") + kFieldKeys[f] + "\" twice");
        }
        item_.seen[f] = true;
      }
      return true;
    default:
      return true;  // keys only occur in objects, and those are all handled above
  }
}

bool Handler::OnValue(JsonType type, std::string* text) {
  buf_.MarkEvent();
  if (skip_ > 0) {
    if (IsContainer(type)) ++skip_;
    return true;
  }
  switch (where_) {
    case Where::kTop:
      if (type != JsonType::kObject) {
        return Fail(std::string("the document is ") + TypeName(type) +
                    ", not an object with \"eksport\" and \"yozuvlar\"");
      }
      where_ = Where::kRoot;
      return true;
    case Where::kRoot:
      if (key_ == kEksport) {
        if (type != JsonType::kObject) {
          return Fail(std::string("\"eksport\" is ") + TypeName(type) + ", not an object");
        }
        where_ = Where::kEksport;
        key_ = -1;
        return true;
      }
      if (key_ == kYozuvlar) {
        if (type != JsonType::kArray) {
          return Fail(std::string("\"yozuvlar\" is ") + TypeName(type) + ", not an array");
        }
        where_ = Where::kItems;
        return true;
      }
      if (IsContainer(type)) skip_ = 1;  // an unknown key's subtree
      return true;
    case Where::kEksport:
      return OnEksportValue(type, text);
    case Where::kItems:
      ++row_;
      if (type != JsonType::kObject) {
        if (IsContainer(type)) skip_ = 1;
        return Check(sink_.OnRowError(RowError{
            row_, "yozuvlar", std::string("the item is ") + TypeName(type) + ", not an object",
            "wrong_type"}));
      }
      item_.Reset();
      where_ = Where::kItem;
      key_ = -1;
      return true;
    case Where::kItem:
      return OnItemValue(type, text);
    case Where::kDone:
      return true;  // nlohmann reports content after the document itself
  }
  return true;
}

bool Handler::OnEksportValue(JsonType type, std::string* text) {
  if (key_ < 0) {
    if (IsContainer(type)) skip_ = 1;
    return true;
  }
  const char* name = kEksportKeys[static_cast<size_t>(key_)];
  // null counts as absent: davlat and versiya are optional, holat_sanasi is
  // then reported missing by CheckEksport().
  if (type == JsonType::kNull) return true;
  const bool ok = type == JsonType::kString || (key_ == kVersiya && type == JsonType::kNumber);
  if (!ok) {
    return Fail(std::string("eksport.") + name + " is " + TypeName(type) + ", not " +
                (key_ == kVersiya ? "a number" : "a string"));
  }
  switch (key_) {
    case kDavlat:
      davlat_ = *text;
      break;
    case kHolatSanasi:
      holat_sanasi_ = *text;
      break;
    case kVersiya:
      versiya_ok_ = type == JsonType::kNumber ? number_ == 1.0 : TrimSpace(*text) == "1";
      break;
  }
  return true;
}

bool Handler::OnItemValue(JsonType type, std::string* text) {
  if (key_ < 0) {
    if (IsContainer(type)) skip_ = 1;
    return true;
  }
  const Field f = static_cast<Field>(key_);
  Value& v = item_.values[f];
  switch (type) {
    case JsonType::kString:
      v.kind = Value::Kind::kString;
      v.text.swap(*text);  // nlohmann allows the string to be taken
      return true;
    case JsonType::kNull:
      v.kind = Value::Kind::kNull;
      v.text.clear();
      return true;
    default:
      if (IsContainer(type)) skip_ = 1;
      SetStructural(
          f, "wrong_type",
          std::string("the value of \"") + kFieldKeys[f] + "\" is " + TypeName(type) +
              ", not a string" +
              (f == kFuqaroligi || f == kAmalQilishMuddati || f == kOtasiningIsmi ? " or null"
                                                                                  : ""));
      return true;
  }
}

bool Handler::OnEnd() {
  buf_.MarkEvent();
  if (skip_ > 0) {
    --skip_;
    return true;
  }
  switch (where_) {
    case Where::kItem:
      where_ = Where::kItems;
      return FinishItem();
    case Where::kItems:
      where_ = Where::kRoot;
      key_ = -1;
      return true;
    case Where::kEksport:
      where_ = Where::kRoot;
      key_ = -1;
      // Known now: refuse a wrong snapshot before reading millions of items.
      if (Status s = CheckEksport(); !s.ok()) return Fail(s.message());
      return true;
    case Where::kRoot:
      where_ = Where::kDone;
      return true;
    default:
      return true;
  }
}

bool Handler::FinishItem() {
  std::optional<Fault> fault = item_.structural;
  if (!fault) {
    person_ = PersonRecord();
    fault = CheckItem(item_, context_.ref_date, person_);
  }
  if (fault) {
    return Check(sink_.OnRowError(
        RowError{row_, kFieldKeys[fault->field], std::move(fault->reason), fault->kind}));
  }
  return Check(sink_.OnPerson(row_, std::move(person_)));
}

Status Handler::CheckEksport() const {
  if (davlat_ && FoldKey(*davlat_) != "uzb") {
    return Status::InvalidArgument("eksport.davlat is not UZB: uzb-1 is Uzbekistan's profile");
  }
  if (versiya_ok_ && !*versiya_ok_) {
    return Status::InvalidArgument("eksport.versiya is not 1: this is version 1 of uzb-1");
  }
  if (!holat_sanasi_) {
    return Status::InvalidArgument("\"eksport\" has no holat_sanasi (the reference date)");
  }
  const std::optional<Date> date =
      ParseDate(TrimSpace(*holat_sanasi_), DateOrder::kDayMonthYear, '.');
  if (!date) return Status::InvalidArgument("eksport.holat_sanasi is not a real date DD.MM.YYYY");
  if (*date != context_.ref_date) {
    return Status::InvalidArgument("eksport.holat_sanasi is " + date->ToIso() +
                                   " but the snapshot's reference date is " +
                                   context_.ref_date.ToIso());
  }
  return Status::Ok();
}

Status Handler::Finish() const {
  if (!seen_eksport_) {
    return Status::InvalidArgument(
        "the root object has no \"eksport\" object, so its holat_sanasi cannot be checked");
  }
  if (!seen_yozuvlar_) return Status::InvalidArgument("the root object has no \"yozuvlar\" array");
  return Status::Ok();
}

bool Handler::parse_error(std::size_t position, const std::string& last_token,
                          const nlohmann::detail::exception& ex) {
  // nlohmann counts characters read, the offending one included; report its
  // offset from 0, as the UTF-8 checker does.
  const uint64_t offset = position > 0 ? position - 1 : 0;
  std::string message = "malformed JSON at byte " + std::to_string(offset) + ": " +
                        DescribeParseError(ex.what(), last_token);
  if (buf_.at_end() && offset >= buf_.bytes_read()) message += " (the document is truncated)";
  fault_ = Status::InvalidArgument(std::move(message));
  return false;
}

// ---------------------------------------------------------------------------

class Uzb1Adapter : public Adapter {
 public:
  Status Run(ByteSource& input, const AdapterContext& context, RecordSink& sink) override;
};

Status Uzb1Adapter::Run(ByteSource& input, const AdapterContext& context, RecordSink& sink) {
  const std::string charset = context.charset.empty() ? "utf-8" : context.charset;
  if (!IsProfileCharset(charset)) {
    bool printable = charset.size() <= 40;
    for (char c : charset) printable = printable && c >= 0x20 && c < 0x7F;
    return Status::InvalidArgument(
        (printable ? "charset \"" + charset + "\"" : std::string("the charset")) +
        " is not accepted by uzb-1 (use utf-8)");
  }
  GW_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> utf8, MakeUtf8Source(input, "utf-8"));
  SourceBuf buf(*utf8);
  std::istream stream(&buf);
  Handler handler(buf, context, sink);
  bool completed = false;
  try {
    completed = Json::sax_parse(stream, &handler);
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory while reading the uzb-1 document");
  } catch (const std::exception& e) {
    return Status::Internal(std::string("uzb-1 parser failed: ") + e.what());
  }
  // A read fault (invalid UTF-8, an over-long token) shows to nlohmann as an
  // early end of input; the real cause comes first.
  if (!buf.status().ok()) return buf.status();
  if (!completed) {
    if (buf.at_end() && buf.bytes_read() == 0) return Status::InvalidArgument("the file is empty");
    if (handler.fault().ok()) return Status::Internal("uzb-1 parse stopped without a fault");
    return handler.fault();
  }
  return handler.Finish();
}

}  // namespace

std::unique_ptr<Adapter> NewAdapter() { return std::make_unique<Uzb1Adapter>(); }

}  // namespace gw::uzb1

GW_REGISTER_ADAPTER(uzb1, gw::AdapterInfo{"uzb-1",
                                          "UZB",
                                          "Uzbekistan, Ministry of Internal Affairs (JSON, UTF-8)",
                                          {"utf-8"},
                                          "application/json",
                                          [] { return gw::uzb1::NewAdapter(); }});
