// kgz-1: Kyrgyzstan, State Registration Service. See FORMATS.md for the
// profile. expat parses the document in chunks and calls back for elements
// and text; the callbacks keep a small state machine (root, Person, one known
// child element, or an ignored subtree) and, at the end of each Person, every
// rule of the profile is checked in CheckPerson(), in the order of the
// profile's element list, and the first failing rule is the row's error.
#include "adapters/kgz-1/kgz1_adapter.h"

#include <expat.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/kgz-1/pin.h"
#include "gateway/common/date.h"
#include "gateway/common/text.h"
#include "gateway/schema/adapter_registry.h"
#include "gateway/schema/codelists.h"

namespace gw::kgz1 {
namespace {

// ---------------------------------------------------------------------------
// The profile's tables.

constexpr char kCountry[] = "KGZ";
constexpr char kRoot[] = "MigrantRegister";
constexpr char kPerson[] = "Person";

enum Field {
  kPin,
  kSurname,
  kGivenName,
  kBirthDate,
  kSex,
  kNationality,
  kCategory,
  kRegion,
  kRegistered,
  kValidUntil,
  kFieldCount
};

constexpr std::array<const char*, kFieldCount> kFieldNames = {
    "PIN",         "Surname",  "GivenName", "BirthDate",  "Sex",
    "Nationality", "Category", "Region",    "Registered", "ValidUntil",
};

struct Mapping {
  const char* text;
  const char* code;
};

constexpr Mapping kCategories[] = {
    {"REF", "REF"}, {"MREF", "REF"},  // UNHCR mandate refugee
    {"ASY", "ASY"}, {"STL", "STA"},  {"LMG", "MIG"},
};

// ICAO Doc 9303 codes that are not ISO 3166-1. Every other ICAO-only code
// (D for Germany, GBD, UNA, UNK for UNMIK Kosovo...) is outside the profile
// and refused; UNK in particular must not be read as the code lists' "unknown".
constexpr Mapping kIcaoSpecial[] = {
    {"XXA", "XXA"},  // stateless
    {"XXB", "UNK"},  // refugee (1951 Convention), nationality not recorded
    {"XXC", "UNK"},  // refugee (other), nationality not recorded
    {"XXX", "UNK"},  // unspecified nationality
};

// A Person's text is a handful of short codes and names; anything longer is
// not data but an attempt to make the adapter buffer without bound.
constexpr size_t kMaxValueBytes = 4096;
// The profile needs three levels; extensions may add a few. Expat keeps a
// frame per open element, so unbounded nesting would be unbounded memory.
constexpr int kMaxDepth = 64;
constexpr int kChunkBytes = 64 * 1024;
// expat must hold a whole tag, comment or processing instruction in memory
// before it reports anything (text, by contrast, is reported as it arrives).
// A register's tags are short; a token this long is an attempt to make the
// parser buffer without bound.
constexpr int64_t kMaxTokenBytes = 8 << 20;

// expat joins namespace URI and local name with this; it cannot occur in a
// local name (an NCName), so the last one splits the two unambiguously.
constexpr char kNsSeparator = '|';

struct QName {
  std::string_view uri;  // empty: no namespace
  std::string_view local;
};

QName SplitName(const XML_Char* name) {
  const std::string_view full(name);
  const size_t sep = full.rfind(kNsSeparator);
  if (sep == std::string_view::npos) return QName{{}, full};
  return QName{full.substr(0, sep), full.substr(sep + 1)};
}

// The common rules compare code values after NFC, trimming and case folding;
// the codes of this profile are upper-case ASCII, so the folded key is
// upper-cased again. ASCII input (the usual case) never reaches ICU inside
// FoldKey.
std::string CodeKey(std::string_view raw) {
  std::string key = FoldKey(raw);
  for (char& c : key) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - ('a' - 'A'));
  }
  return key;
}

const char* Lookup(const Mapping* begin, const Mapping* end, std::string_view key) {
  for (const Mapping* m = begin; m != end; ++m) {
    if (key == m->text) return m->code;
  }
  return nullptr;
}

const char* CountryFor(std::string_view raw) {
  const std::string key = CodeKey(raw);
  if (const char* special = Lookup(std::begin(kIcaoSpecial), std::end(kIcaoSpecial), key)) {
    return special;
  }
  if (key.size() != 3) return nullptr;
  for (char c : key) {
    if (c < 'A' || c > 'Z') return nullptr;
  }
  if (key == "UNK") return nullptr;  // ICAO: UNMIK Kosovo, not "unknown"
  const Country* country = CodeLists::Get().CountryByAlpha3(key);
  return country == nullptr ? nullptr : country->alpha3.c_str();
}

const char* RegionFor(std::string_view raw) {
  const Region* region = CodeLists::Get().RegionByCode(CodeKey(raw));
  if (region == nullptr || region->country != kCountry) return nullptr;
  return region->code.c_str();
}

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

int Number(std::string_view digits) {
  int v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  return v;
}

// "YYYY-MM-DD", or "YYYY-MM" / "YYYY" when incomplete. A year of 0000 is not
// a date in ISO 8601 and the PIN always carries a year, so it is refused.
std::optional<PartialDate> ParseBirthDate(std::string_view text) {
  if (text.size() == 10) {
    const std::optional<Date> d = ParseIsoDate(text);
    if (!d) return std::nullopt;
    return PartialDate{d->year, d->month, d->day};
  }
  if (text.size() != 4 && text.size() != 7) return std::nullopt;
  const std::string_view year = text.substr(0, 4);
  if (!AllDigits(year) || Number(year) < 1) return std::nullopt;
  if (text.size() == 4) return PartialDate{Number(year), 0, 0};
  const std::string_view month = text.substr(5, 2);
  if (text[4] != '-' || !AllDigits(month) || Number(month) < 1 || Number(month) > 12) {
    return std::nullopt;
  }
  return PartialDate{Number(year), Number(month), 0};
}

bool IsUtf8Name(std::string_view charset) {
  std::string lower(charset);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  return lower == "utf-8" || lower == "utf8";
}

// Echoes an uploader-supplied name only when it is short printable ASCII.
std::string Quoted(std::string_view what, std::string_view value) {
  bool printable = value.size() <= 40;
  for (char c : value) printable = printable && c >= 0x20 && c < 0x7F && c != '"';
  return printable ? std::string(what) + " \"" + std::string(value) + "\"" : std::string(what);
}

// ---------------------------------------------------------------------------

struct Fault {
  Field field;
  const char* kind;
  std::string reason;  // never holds the value itself
};

// The text of the known child elements of the Person being read. The strings
// are cleared, not freed, between Persons, so reading a Person allocates
// nothing once the first few have been read.
struct PersonText {
  std::array<std::string, kFieldCount> text;
  std::array<bool, kFieldCount> present{};
  std::optional<Field> repeated;  // the first element that appeared twice
  std::optional<Field> too_long;  // the first element over kMaxValueBytes

  void Clear() {
    for (std::string& t : text) t.clear();
    present.fill(false);
    repeated.reset();
    too_long.reset();
  }
};

class Kgz1Adapter : public Adapter {
 public:
  Status Run(ByteSource& input, const AdapterContext& context, RecordSink& sink) override;

 private:
  // expat callbacks: trampolines into the member functions below, which must
  // not let an exception unwind through expat's C frames.
  static void XMLCALL OnStartElement(void* self, const XML_Char* name, const XML_Char** atts);
  static void XMLCALL OnEndElement(void* self, const XML_Char* name);
  static void XMLCALL OnCharacterData(void* self, const XML_Char* s, int len);
  static void XMLCALL OnXmlDecl(void* self, const XML_Char* version, const XML_Char* encoding,
                                int standalone);
  static void XMLCALL OnStartDoctype(void* self, const XML_Char* name, const XML_Char* sysid,
                                     const XML_Char* pubid, int has_internal_subset);
  static void XMLCALL OnEntityDecl(void* self, const XML_Char* name, int is_parameter_entity,
                                   const XML_Char* value, int value_length, const XML_Char* base,
                                   const XML_Char* system_id, const XML_Char* public_id,
                                   const XML_Char* notation_name);

  template <typename Body>
  void Guarded(Body&& body);

  void StartElement(const XML_Char* name, const XML_Char** atts);
  void EndElement();
  void CharacterData(const XML_Char* s, int len);
  void StartRoot(const QName& name, const XML_Char** atts);
  void EndPerson();
  std::optional<Fault> CheckPerson(PersonRecord& person);

  // Records the run's outcome (the first one wins) and stops the parser.
  void Fail(Status status);
  // "line L, column C, in Person N" for the event being handled (or where
  // expat stopped, after an error).
  std::string Where() const;
  Status ExpatError() const;

  XML_Parser parser_ = nullptr;
  const AdapterContext* context_ = nullptr;
  RecordSink* sink_ = nullptr;
  std::optional<Status> failure_;

  int depth_ = 0;       // open elements, the root being 1
  int skip_depth_ = 0;  // > 0: inside an ignored element opened at this depth
  bool root_closed_ = false;
  bool in_person_ = false;
  std::optional<Field> field_;   // the known Person child being read
  uint64_t person_ordinal_ = 0;  // Persons seen so far; the current one while in_person_
  PersonText person_;
};

// --- expat callbacks ----------------------------------------------------------

template <typename Body>
void Kgz1Adapter::Guarded(Body&& body) {
  if (failure_) return;  // expat may still deliver an event or two after a stop
  try {
    body();
  } catch (const std::exception& e) {
    Fail(Status::Internal(std::string("kgz-1 adapter: ") + e.what()));
  } catch (...) {
    Fail(Status::Internal("kgz-1 adapter: unexpected exception"));
  }
}

void XMLCALL Kgz1Adapter::OnStartElement(void* self, const XML_Char* name, const XML_Char** atts) {
  auto* a = static_cast<Kgz1Adapter*>(self);
  a->Guarded([&] { a->StartElement(name, atts); });
}

void XMLCALL Kgz1Adapter::OnEndElement(void* self, const XML_Char*) {
  auto* a = static_cast<Kgz1Adapter*>(self);
  a->Guarded([&] { a->EndElement(); });
}

void XMLCALL Kgz1Adapter::OnCharacterData(void* self, const XML_Char* s, int len) {
  auto* a = static_cast<Kgz1Adapter*>(self);
  a->Guarded([&] { a->CharacterData(s, len); });
}

void XMLCALL Kgz1Adapter::OnXmlDecl(void* self, const XML_Char*, const XML_Char* encoding, int) {
  auto* a = static_cast<Kgz1Adapter*>(self);
  a->Guarded([&] {
    // The parser is told the document is UTF-8 whatever it declares; a file
    // that declares another encoding was written in it, and would be misread.
    if (encoding != nullptr && !IsUtf8Name(encoding)) {
      a->Fail(Status::InvalidArgument("the XML declaration names " + Quoted("encoding", encoding) +
                                      " at " + a->Where() + "; kgz-1 files must be UTF-8"));
    }
  });
}

void XMLCALL Kgz1Adapter::OnStartDoctype(void* self, const XML_Char*, const XML_Char*,
                                         const XML_Char*, int) {
  auto* a = static_cast<Kgz1Adapter*>(self);
  a->Guarded([&] {
    a->Fail(Status::InvalidArgument("document type declaration (<!DOCTYPE) at " + a->Where() +
                                    ": kgz-1 files must not have one"));
  });
}

void XMLCALL Kgz1Adapter::OnEntityDecl(void* self, const XML_Char*, int, const XML_Char*, int,
                                       const XML_Char*, const XML_Char*, const XML_Char*,
                                       const XML_Char*) {
  // Unreachable while the DOCTYPE handler stops the parser first (entities can
  // only be declared in a DTD); kept so that no entity declaration can ever be
  // acted upon, whatever expat does after a stop.
  auto* a = static_cast<Kgz1Adapter*>(self);
  a->Guarded([&] {
    a->Fail(Status::InvalidArgument("entity declaration (<!ENTITY) at " + a->Where() +
                                    ": kgz-1 files must not declare entities"));
  });
}

// --- The element state machine -------------------------------------------------

void Kgz1Adapter::StartElement(const XML_Char* name, const XML_Char** atts) {
  ++depth_;
  if (depth_ > kMaxDepth) {
    Fail(Status::InvalidArgument("elements are nested more than " + std::to_string(kMaxDepth) +
                                 " deep at " + Where()));
    return;
  }
  if (skip_depth_ > 0) return;
  const QName q = SplitName(name);
  const bool ours = q.uri == kNamespace;
  if (depth_ == 1) {
    StartRoot(q, atts);
    return;
  }
  if (depth_ == 2) {
    if (ours && q.local == kPerson) {
      in_person_ = true;
      ++person_ordinal_;
      person_.Clear();
    } else {
      skip_depth_ = depth_;  // unknown, or another namespace's: ignored with its content
    }
    return;
  }
  if (depth_ == 3 && in_person_ && ours) {
    for (size_t f = 0; f < kFieldCount; ++f) {
      if (q.local != kFieldNames[f]) continue;
      const Field field = static_cast<Field>(f);
      if (person_.present[field]) {
        // The row is refused; the second value is not read.
        if (!person_.repeated) person_.repeated = field;
        break;
      }
      person_.present[field] = true;
      field_ = field;
      return;
    }
  }
  // Unknown Person children, foreign ones, repeated ones, and anything nested
  // inside a known child (its own text still counts, the nested part not).
  skip_depth_ = depth_;
}

void Kgz1Adapter::StartRoot(const QName& name, const XML_Char** atts) {
  if (name.uri != kNamespace || name.local != kRoot) {
    Fail(Status::InvalidArgument(std::string("the root element at ") + Where() + " is not " +
                                 kRoot + " in namespace " + kNamespace));
    return;
  }
  std::optional<std::string_view> reference, country;
  // Unprefixed attributes have no namespace, and expat passes them by local name.
  for (const XML_Char** a = atts; *a != nullptr; a += 2) {
    const std::string_view attr(a[0]);
    if (attr == "referenceDate") reference = a[1];
    if (attr == "country") country = a[1];
  }
  if (!reference) {
    Fail(Status::InvalidArgument("the root element at " + Where() +
                                 " has no referenceDate attribute"));
    return;
  }
  const std::optional<Date> ref = ParseIsoDate(TrimSpace(*reference));
  if (!ref) {
    Fail(Status::InvalidArgument("the root element's referenceDate at " + Where() +
                                 " is not a date YYYY-MM-DD"));
    return;
  }
  if (*ref != context_->ref_date) {
    Fail(Status::InvalidArgument("the root element's referenceDate " + ref->ToIso() + " at " +
                                 Where() + " is not the snapshot's reference date " +
                                 context_->ref_date.ToIso()));
    return;
  }
  if (country && CodeKey(*country) != kCountry) {
    Fail(Status::InvalidArgument("the root element's country attribute at " + Where() + " is not " +
                                 kCountry));
  }
}

void Kgz1Adapter::EndElement() {
  if (skip_depth_ > 0) {
    if (depth_ == skip_depth_) skip_depth_ = 0;
  } else if (depth_ == 3 && field_) {
    field_.reset();
  } else if (depth_ == 2 && in_person_) {
    EndPerson();
    in_person_ = false;
  } else if (depth_ == 1) {
    root_closed_ = true;
  }
  --depth_;
}

void Kgz1Adapter::CharacterData(const XML_Char* s, int len) {
  // Text arrives in pieces (per line, around entity and character references,
  // per buffer); only text directly inside a known Person child is kept.
  if (skip_depth_ > 0 || !field_ || depth_ != 3) return;
  std::string& text = person_.text[*field_];
  if (text.size() + static_cast<size_t>(len) > kMaxValueBytes) {
    if (!person_.too_long) person_.too_long = *field_;
    return;
  }
  text.append(s, static_cast<size_t>(len));
}

void Kgz1Adapter::EndPerson() {
  PersonRecord person;
  Status status;
  if (std::optional<Fault> fault = CheckPerson(person)) {
    status = sink_->OnRowError(RowError{person_ordinal_, kFieldNames[fault->field],
                                        std::move(fault->reason), fault->kind});
  } else {
    status = sink_->OnPerson(person_ordinal_, std::move(person));
  }
  if (!status.ok()) Fail(std::move(status));
}

// --- The profile's rules ---------------------------------------------------------

std::optional<Fault> Kgz1Adapter::CheckPerson(PersonRecord& person) {
  auto name = [](Field f) { return std::string("<") + kFieldNames[f] + ">"; };
  if (person_.repeated) {
    return Fault{*person_.repeated, "bad_row",
                 "the " + name(*person_.repeated) + " element appears more than once"};
  }
  if (person_.too_long) {
    return Fault{*person_.too_long, "bad_row",
                 "the " + name(*person_.too_long) + " element's text is longer than " +
                     std::to_string(kMaxValueBytes) + " bytes"};
  }
  // A missing element gets the kind an empty one would: the value is absent
  // either way, and the reason tells the two apart.
  auto absent = [&](Field f, const char* kind) -> std::optional<Fault> {
    if (!person_.present[f]) return Fault{f, kind, "the Person has no " + name(f) + " element"};
    return std::nullopt;
  };
  auto value = [&](Field f) { return TrimSpace(person_.text[f]); };
  const Date& ref = context_->ref_date;

  // PIN
  if (auto f = absent(kPin, "bad_id_format")) return f;
  const std::string_view pin_text = value(kPin);
  PinInfo pin;
  switch (ParsePin(pin_text, &pin)) {
    case PinFault::kNone:
      break;
    case PinFault::kFormat:
      return Fault{kPin, "bad_id_format",
                   pin_text.empty() ? "the PIN is empty" : "the PIN is not exactly 14 digits"};
    case PinFault::kSex:
      return Fault{kPin, "bad_id_format", "the PIN's first digit (sex) is not 1 or 2"};
    case PinFault::kDate:
      return Fault{kPin, "bad_id_format", "the PIN's digits 2 to 9 are not a real date DDMMYYYY"};
  }

  // Names are required but never stored.
  if (auto f = absent(kSurname, "missing_name")) return f;
  if (value(kSurname).empty()) return Fault{kSurname, "missing_name", "the surname is empty"};
  if (auto f = absent(kGivenName, "missing_name")) return f;
  if (value(kGivenName).empty()) {
    return Fault{kGivenName, "missing_name", "the given name is empty"};
  }

  // Birth date, and its agreement with the PIN (only the parts that are known).
  if (auto f = absent(kBirthDate, "bad_date")) return f;
  const std::optional<PartialDate> birth = ParseBirthDate(value(kBirthDate));
  if (!birth) {
    return Fault{kBirthDate, "bad_date",
                 "the birth date is not a date YYYY-MM-DD, YYYY-MM or YYYY"};
  }
  const std::optional<Date> birth_earliest = birth->Earliest();
  if (birth_earliest && *birth_earliest > ref) {
    return Fault{kBirthDate, "future_birth", "the birth date is after the reference date"};
  }
  if (birth->year != pin.birth.year || (birth->month != 0 && birth->month != pin.birth.month) ||
      (birth->day != 0 && birth->day != pin.birth.day)) {
    return Fault{kPin, "id_birth_mismatch",
                 "the birth date in the PIN does not agree with the <BirthDate> element"};
  }

  if (auto f = absent(kSex, "unknown_sex")) return f;
  const std::string sex = CodeKey(value(kSex));
  if (sex != "M" && sex != "F") return Fault{kSex, "unknown_sex", "the sex is not M or F"};
  if (sex[0] != pin.sex) {
    return Fault{kPin, "id_sex_mismatch",
                 "the sex digit of the PIN does not agree with the <Sex> element"};
  }

  if (auto f = absent(kNationality, "unknown_country")) return f;
  const char* coo = CountryFor(value(kNationality));
  if (coo == nullptr) {
    return Fault{kNationality, "unknown_country",
                 "the nationality is not an ISO 3166-1 alpha-3 code or one of XXA, XXB, XXC, "
                 "XXX"};
  }

  if (auto f = absent(kCategory, "unknown_status")) return f;
  const char* pop_type =
      Lookup(std::begin(kCategories), std::end(kCategories), CodeKey(value(kCategory)));
  if (pop_type == nullptr) {
    return Fault{kCategory, "unknown_status",
                 "the category is not one of REF, MREF, ASY, STL, LMG"};
  }

  if (auto f = absent(kRegion, "unknown_region")) return f;
  const char* region = RegionFor(value(kRegion));
  if (region == nullptr) {
    return Fault{kRegion, "unknown_region", "the region is not an ISO 3166-2:KG code"};
  }

  if (auto f = absent(kRegistered, "bad_date")) return f;
  const std::optional<Date> registered = ParseIsoDate(value(kRegistered));
  if (!registered) {
    return Fault{kRegistered, "bad_date", "the registration date is not a real date YYYY-MM-DD"};
  }
  // A registration after the reference date is left to the stock rule. Only a
  // registration before every date the birth date may stand for is an error:
  // a partial birth date gets the benefit of the doubt.
  if (birth_earliest && *registered < *birth_earliest) {
    return Fault{kRegistered, "reg_before_birth", "the registration date is before the birth date"};
  }

  // Optional: an absent element and an empty one (how exporters write a null)
  // both mean the status does not expire.
  std::optional<Date> valid_until;
  if (const std::string_view until = value(kValidUntil); !until.empty()) {
    valid_until = ParseIsoDate(until);
    if (!valid_until) {
      return Fault{kValidUntil, "bad_date",
                   "the status validity date is not a real date YYYY-MM-DD"};
    }
    if (*valid_until < *registered) {
      return Fault{kValidUntil, "until_before_reg",
                   "the status validity date is before the registration date"};
    }
  }

  std::string age = CodeLists::Get().AgeBandAt(*birth, ref);

  person.person_id.assign(pin_text);
  person.id_field = kFieldNames[kPin];
  person.pop_type = pop_type;
  person.coo = coo;
  person.sex = sex;
  person.age = std::move(age);
  person.region = region;
  person.registered = *registered;
  person.valid_until = valid_until;
  return std::nullopt;
}

// --- Run -------------------------------------------------------------------------

void Kgz1Adapter::Fail(Status status) {
  if (!failure_) failure_ = std::move(status);
  XML_StopParser(parser_, XML_FALSE);
}

std::string Kgz1Adapter::Where() const {
  // expat counts columns from 0; people count from 1.
  std::string where = "line " + std::to_string(XML_GetCurrentLineNumber(parser_)) + ", column " +
                      std::to_string(XML_GetCurrentColumnNumber(parser_) + 1);
  if (in_person_) {
    where += ", in Person " + std::to_string(person_ordinal_);
  } else if (person_ordinal_ == 0) {
    where += ", before the first Person";
  } else {
    where += ", after Person " + std::to_string(person_ordinal_);
  }
  return where;
}

Status Kgz1Adapter::ExpatError() const {
  const XML_Error code = XML_GetErrorCode(parser_);
  std::string what = XML_ErrorString(code);
  if (code == XML_ERROR_INVALID_TOKEN || code == XML_ERROR_PARTIAL_CHAR) {
    what += " (bytes that are not valid UTF-8, or a character XML does not allow)";
  } else if ((code == XML_ERROR_NO_ELEMENTS || code == XML_ERROR_UNCLOSED_TOKEN) && depth_ > 0 &&
             !root_closed_) {
    what = "the document ends before the root element is closed (truncated?)";
  } else if (code == XML_ERROR_UNDEFINED_ENTITY) {
    what += " (kgz-1 files may use only the five predefined entities)";
  }
  return Status::InvalidArgument("malformed XML at " + Where() + ": " + what);
}

Status Kgz1Adapter::Run(ByteSource& input, const AdapterContext& context, RecordSink& sink) {
  if (!context.charset.empty() && !IsUtf8Name(context.charset)) {
    return Status::InvalidArgument(Quoted("charset", context.charset) +
                                   " is not accepted by kgz-1 (use utf-8)");
  }
  // The protocol encoding is fixed to UTF-8, so expat never switches to another
  // decoder because of what the file declares (OnXmlDecl refuses such files).
  std::unique_ptr<XML_ParserStruct, void (*)(XML_Parser)> parser(
      XML_ParserCreateNS("UTF-8", kNsSeparator), XML_ParserFree);
  if (!parser) return Status::Internal("kgz-1 adapter: could not create the XML parser");
  parser_ = parser.get();
  context_ = &context;
  sink_ = &sink;
  failure_.reset();
  depth_ = skip_depth_ = 0;
  root_closed_ = in_person_ = false;
  field_.reset();
  person_ordinal_ = 0;

  XML_SetUserData(parser_, this);
  XML_SetElementHandler(parser_, OnStartElement, OnEndElement);
  XML_SetCharacterDataHandler(parser_, OnCharacterData);
  XML_SetXmlDeclHandler(parser_, OnXmlDecl);
  XML_SetStartDoctypeDeclHandler(parser_, OnStartDoctype);
  XML_SetEntityDeclHandler(parser_, OnEntityDecl);
  XML_SetParamEntityParsing(parser_, XML_PARAM_ENTITY_PARSING_NEVER);

  uint64_t total = 0;
  while (true) {
    void* buffer = XML_GetBuffer(parser_, kChunkBytes);
    if (buffer == nullptr)
      return Status::Internal("kgz-1 adapter: out of memory in the XML parser");
    GW_ASSIGN_OR_RETURN(const size_t n, input.Read(static_cast<char*>(buffer), kChunkBytes));
    total += n;
    const bool final = n == 0;
    if (final && total == 0) return Status::InvalidArgument("file is empty (no XML document)");
    const XML_Status parsed = XML_ParseBuffer(parser_, static_cast<int>(n), final);
    if (failure_) return *failure_;
    if (parsed != XML_STATUS_OK) return ExpatError();
    if (final) break;
    // After a successful parse, the byte index is that of the last complete
    // token; everything after it is what expat is holding.
    const int64_t last_token = std::max<int64_t>(0, XML_GetCurrentByteIndex(parser_));
    if (static_cast<int64_t>(total) - last_token > kMaxTokenBytes) {
      return Status::InvalidArgument("more than " + std::to_string(kMaxTokenBytes >> 20) +
                                     " MiB without the end of an XML tag, comment or "
                                     "processing instruction after " +
                                     Where());
    }
  }
  return Status::Ok();
}

}  // namespace

std::unique_ptr<Adapter> NewAdapter() { return std::make_unique<Kgz1Adapter>(); }

}  // namespace gw::kgz1

GW_REGISTER_ADAPTER(kgz1, gw::AdapterInfo{"kgz-1",
                                          "KGZ",
                                          "Kyrgyzstan, State Registration Service migrant "
                                          "register (XML, UTF-8)",
                                          {"utf-8"},
                                          "application/xml",
                                          [] { return gw::kgz1::NewAdapter(); }});
