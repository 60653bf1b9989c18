// Tests of the kgz-1 adapter (Kyrgyzstan, XML): the sample against its truth,
// every rule of the profile on small hand-made documents, the XML-specific
// behaviour (namespaces, ignored elements, text in pieces, entities) and the
// whole-file faults.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "adapters/kgz-1/kgz1_adapter.h"
#include "adapters/kgz-1/pin.h"
#include "gateway/common/byte_source.h"
#include "gateway/schema/adapter_registry.h"
#include "gateway/schema/codelists.h"
#include "gateway/schema/records.h"

#ifndef GW_FIXTURES_DIR
#error "GW_FIXTURES_DIR must name tests/fixtures"
#endif

namespace gw {
namespace {

using nlohmann::json;

const Date kRef{2015, 12, 31};  // the sample's reference date
const std::string kNs = "urn:kg:grs:migrant-register:1";

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(GW_FIXTURES_DIR) + "/" + name, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Emitted {
  uint64_t row;
  PersonRecord person;
};

class TestSink : public RecordSink {
 public:
  Status OnPerson(uint64_t row, PersonRecord&& person) override {
    persons.push_back(Emitted{row, std::move(person)});
    return fail_after_persons >= 0 && static_cast<int>(persons.size()) > fail_after_persons
               ? Status::Internal("sink full")
               : Status::Ok();
  }
  Status OnCell(uint64_t, CellRecord&&) override {
    ++cells;
    return Status::Ok();
  }
  Status OnRowError(RowError&& error) override {
    errors.push_back(std::move(error));
    return Status::Ok();
  }

  std::vector<Emitted> persons;
  std::vector<RowError> errors;
  int cells = 0;
  int fail_after_persons = -1;
};

struct RunResult {
  Status status;
  TestSink sink;
};

RunResult RunOn(ByteSource& source, const std::string& charset = "", Date ref = kRef) {
  const AdapterInfo* info = AdapterRegistry::Global().Find("kgz-1");
  REQUIRE(info != nullptr);
  std::unique_ptr<Adapter> adapter = info->create();
  RunResult r;
  r.status = adapter->Run(source, AdapterContext{"KGZ", ref, charset}, r.sink);
  return r;
}

RunResult Run(const std::string& data, const std::string& charset = "", Date ref = kRef) {
  StringSource source(data);
  return RunOn(source, charset, ref);
}

// Serves its data a few bytes at a time (1 to 7), so that every token and
// every text node is split across expat buffers.
class DripSource : public ByteSource {
 public:
  explicit DripSource(std::string data) : data_(std::move(data)) {}
  Result<size_t> Read(char* buffer, size_t capacity) override {
    size_t n = std::min({capacity, data_.size() - pos_, static_cast<size_t>(1 + step_++ % 7)});
    data_.copy(buffer, n, pos_);
    pos_ += n;
    return n;
  }

 private:
  std::string data_;
  size_t pos_ = 0;
  size_t step_ = 0;
};

// --- Comparison with the truth file -------------------------------------------

std::string Dim(const PersonRecord& p, const std::string& name) {
  if (name == "pop_type") return p.pop_type;
  if (name == "coo") return p.coo;
  if (name == "sex") return p.sex;
  if (name == "age") return p.age;
  if (name == "region") return p.region;
  FAIL("unknown dimension " << name);
  return {};
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, ',')) out.push_back(part);
  return out;
}

void CheckAgainstTruth(const RunResult& r, const json& truth) {
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
  CHECK(r.sink.cells == 0);

  // Rejected rows: all but duplicate_id are the adapter's job. A duplicate row
  // is either emitted (the pipeline rejects it on the hashed ID) or, when it
  // also breaks a rule of the profile, rejected here for that rule.
  std::map<uint64_t, std::string> expected_errors;
  std::set<uint64_t> duplicate_rows;
  for (const json& e : truth["invalid"]) {
    const uint64_t row = e["row"].get<uint64_t>();
    const std::string kind = e["kind"].get<std::string>();
    if (kind == "duplicate_id") {
      duplicate_rows.insert(row);
    } else {
      expected_errors[row] = kind;
    }
  }
  std::map<uint64_t, std::string> actual_errors;
  std::set<uint64_t> duplicates_rejected_here;
  for (const RowError& e : r.sink.errors) {
    CHECK(actual_errors.count(e.row) == 0);  // one error per row
    if (duplicate_rows.count(e.row) > 0) {
      duplicates_rejected_here.insert(e.row);
      continue;
    }
    actual_errors[e.row] = e.kind;
  }
  CHECK(actual_errors == expected_errors);

  std::map<std::string, uint64_t> first_row_of_id;
  std::vector<const PersonRecord*> valid;
  std::set<uint64_t> seen_duplicates = duplicates_rejected_here;
  uint64_t last_row = 0;
  for (const Emitted& e : r.sink.persons) {
    CHECK(e.row > last_row);
    last_row = e.row;
    CHECK(e.person.id_field == "PIN");
    CHECK(e.person.person_id.size() == 14);
    auto [it, inserted] = first_row_of_id.emplace(e.person.person_id, e.row);
    if (duplicate_rows.count(e.row) > 0) {
      CHECK_FALSE(inserted);
      CHECK(it->second < e.row);
      seen_duplicates.insert(e.row);
      continue;
    }
    CHECK(inserted);
    valid.push_back(&e.person);
  }
  CHECK(seen_duplicates == duplicate_rows);

  CHECK(r.sink.persons.size() + r.sink.errors.size() == truth["rows"].get<size_t>());
  CHECK(valid.size() == truth["valid"].get<size_t>());

  const Date ref = *ParseIsoDate(truth["ref_date"].get<std::string>());
  size_t expired = 0, in_stock = 0;
  std::map<std::string, std::map<std::string, int64_t>> counts;
  for (const PersonRecord* p : valid) {
    if (!InStock(*p, ref)) {
      ++expired;
      continue;
    }
    ++in_stock;
    for (auto it = truth["counts"].begin(); it != truth["counts"].end(); ++it) {
      const std::vector<std::string> dims =
          it.key() == "full" ? std::vector<std::string>{"pop_type", "coo", "sex", "age", "region"}
                             : SplitComma(it.key());
      std::string key;
      for (const std::string& d : dims) key += (key.empty() ? "" : ",") + Dim(*p, d);
      ++counts[it.key()][key];
    }
  }
  CHECK(expired == truth["expired"].get<size_t>());
  CHECK(in_stock == truth["in_stock"].get<size_t>());
  for (auto it = truth["counts"].begin(); it != truth["counts"].end(); ++it) {
    INFO("counts table " << it.key());
    CHECK(counts[it.key()] == it.value().get<std::map<std::string, int64_t>>());
  }
}

json Truth() { return json::parse(ReadFixture("kgz-1.truth.json")); }

TEST_CASE("kgz-1 is registered", "[kgz1]") {
  const AdapterInfo* info = AdapterRegistry::Global().Find("kgz-1");
  REQUIRE(info != nullptr);
  CHECK(info->country == "KGZ");
  CHECK(info->charsets == std::vector<std::string>{"utf-8"});
  CHECK(info->media_type == "application/xml");
}

TEST_CASE("kgz-1 sample matches its truth", "[kgz1]") {
  const json truth = Truth();
  REQUIRE(truth["ref_date"] == "2015-12-31");
  CheckAgainstTruth(Run(ReadFixture("kgz-1.xml"), "utf-8"), truth);
  CheckAgainstTruth(Run(ReadFixture("kgz-1.xml"), ""), truth);
  CheckAgainstTruth(Run(ReadFixture("kgz-1.xml"), "UTF-8"), truth);
}

TEST_CASE("kgz-1 sample: the kinds of the rejected rows", "[kgz1]") {
  RunResult r = Run(ReadFixture("kgz-1.xml"));
  REQUIRE(r.status.ok());
  std::map<uint64_t, std::pair<std::string, std::string>> got;
  for (const RowError& e : r.sink.errors) got[e.row] = {e.kind, e.field};
  const std::map<uint64_t, std::pair<std::string, std::string>> want = {
      {9, {"unknown_status", "Category"}},
      {19, {"unknown_country", "Nationality"}},
      {36, {"id_sex_mismatch", "PIN"}},
      {37, {"bad_date", "Registered"}},
      {49, {"unknown_status", "Category"}},
      {70, {"until_before_reg", "ValidUntil"}},
      {84, {"id_sex_mismatch", "PIN"}},
      // The duplicate of row 87 was also registered 16 years before its birth.
      {88, {"reg_before_birth", "Registered"}},
  };
  CHECK(got == want);
}

TEST_CASE("kgz-1 sample read a few bytes at a time matches its truth", "[kgz1]") {
  DripSource source(ReadFixture("kgz-1.xml"));
  CheckAgainstTruth(RunOn(source, "utf-8"), Truth());
}

TEST_CASE("kgz-1 sample with a BOM and CRLF line ends matches its truth", "[kgz1]") {
  std::string crlf = "\xEF\xBB\xBF";
  for (char c : ReadFixture("kgz-1.xml")) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  CheckAgainstTruth(Run(crlf), Truth());
}

TEST_CASE("kgz-1 sample in a prefixed namespace matches its truth", "[kgz1]") {
  std::string text = ReadFixture("kgz-1.xml");
  // <Person> -> <m:Person>, </Person> -> </m:Person>, and the root's xmlns.
  text = std::regex_replace(text, std::regex("<(/?)([A-Za-z]+)"), "<$1m:$2");
  text = std::regex_replace(text, std::regex("<m:\\?xml"), "<?xml");
  text = std::regex_replace(text, std::regex("xmlns="), "xmlns:m=");
  REQUIRE(text.find("<m:Person><m:") != std::string::npos);
  CheckAgainstTruth(Run(text), Truth());
}

TEST_CASE("kgz-1 row errors never carry identifying values", "[kgz1]") {
  const std::string text = ReadFixture("kgz-1.xml");
  RunResult r = Run(text);
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.errors.size() == 8);
  std::set<std::string> secrets;
  const std::regex pattern("<(PIN|Surname|GivenName|BirthDate)>([^<]*)</");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern);
       it != std::sregex_iterator(); ++it) {
    const std::string value = (*it)[2];
    secrets.insert(value);
    if (value.size() == 14) {  // the PIN's birth date DDMMYYYY as well
      secrets.insert(value.substr(1, 8));
    }
  }
  REQUIRE(secrets.size() > 150);
  for (const RowError& e : r.sink.errors) {
    for (const std::string& s : secrets) {
      CHECK(e.reason.find(s) == std::string::npos);
      CHECK(e.field.find(s) == std::string::npos);
    }
  }
}

// --- Small hand-made documents ------------------------------------------------

// A Person's children as (element, raw XML content), in document order.
using Elems = std::vector<std::pair<std::string, std::string>>;
const std::string kDrop = "\x01(drop)";

// A valid Person (1987-12-15, male; FORMATS.md's example); `overrides` replace
// an element's content in place, add it at the end, or drop it (kDrop).
Elems Valid(const Elems& overrides = {}) {
  Elems e = {
      {"PIN", "21512198700123"},    {"Surname", "Асанов"}, {"GivenName", "Бакыт"},
      {"BirthDate", "1987-12-15"},  {"Sex", "M"},          {"Nationality", "AFG"},
      {"Category", "REF"},          {"Region", "KG-GB"},   {"Registered", "2014-03-02"},
      {"ValidUntil", "2016-03-01"},
  };
  for (const auto& [name, content] : overrides) {
    auto it = std::find_if(e.begin(), e.end(), [&](const auto& p) { return p.first == name; });
    if (content == kDrop) {
      if (it != e.end()) e.erase(it);
    } else if (it != e.end()) {
      it->second = content;
    } else {
      e.emplace_back(name, content);
    }
  }
  return e;
}

std::string PersonXml(const Elems& e, const std::string& extra = "") {
  std::string out = "<Person>";
  for (const auto& [name, content] : e) out += "<" + name + ">" + content + "</" + name + ">";
  return out + extra + "</Person>";
}

const std::string kRootAttrs = "country=\"KGZ\" referenceDate=\"2015-12-31\"";

std::string Doc(const std::vector<std::string>& persons,
                const std::string& root_attrs = kRootAttrs) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MigrantRegister xmlns=\"" + kNs +
                    "\" " + root_attrs + ">\n";
  for (const std::string& p : persons) out += "  " + p + "\n";
  return out + "</MigrantRegister>\n";
}

// The kind of the single Person's error, or "" if it was accepted.
std::string KindOf(const Elems& e, const std::string& extra = "") {
  RunResult r = Run(Doc({PersonXml(e, extra)}));
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.persons.size() + r.sink.errors.size() == 1);
  return r.sink.errors.empty() ? "" : r.sink.errors[0].kind;
}

RowError ErrorOf(const Elems& e, const std::string& extra = "") {
  RunResult r = Run(Doc({PersonXml(e, extra)}));
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.persons.empty());
  REQUIRE(r.sink.errors.size() == 1);
  CHECK(r.sink.errors[0].row == 1);
  return r.sink.errors[0];
}

PersonRecord PersonOf(const Elems& e, const std::string& extra = "") {
  RunResult r = Run(Doc({PersonXml(e, extra)}));
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
  INFO((r.sink.errors.empty() ? "" : r.sink.errors[0].kind + ": " + r.sink.errors[0].reason));
  REQUIRE(r.sink.persons.size() == 1);
  return r.sink.persons[0].person;
}

// A PIN: sex digit, birth date DDMMYYYY, serial.
std::string Pin(char sex, const std::string& ddmmyyyy, const std::string& serial = "00123") {
  return std::string(1, sex) + ddmmyyyy + serial;
}

// A valid Person born on `iso` (YYYY-MM-DD) with the given BirthDate text.
Elems Born(const std::string& iso, const std::string& birth_text, char sex_digit = '2') {
  const std::string ddmmyyyy = iso.substr(8, 2) + iso.substr(5, 2) + iso.substr(0, 4);
  return Valid({{"PIN", Pin(sex_digit, ddmmyyyy)},
                {"BirthDate", birth_text},
                {"Sex", sex_digit == '1' ? "F" : "M"},
                {"Registered", "2015-12-31"},
                {"ValidUntil", kDrop}});
}

TEST_CASE("PIN parsing", "[kgz1][pin]") {
  kgz1::PinInfo info;
  REQUIRE(kgz1::ParsePin("21512198700123", &info) == kgz1::PinFault::kNone);
  CHECK(info.birth == Date{1987, 12, 15});
  CHECK(info.sex == 'M');
  REQUIRE(kgz1::ParsePin("12902200099999", &info) == kgz1::PinFault::kNone);
  CHECK(info.birth == Date{2000, 2, 29});
  CHECK(info.sex == 'F');
  CHECK(kgz1::ParsePin("", nullptr) == kgz1::PinFault::kFormat);
  CHECK(kgz1::ParsePin("2151219870012", nullptr) == kgz1::PinFault::kFormat);
  CHECK(kgz1::ParsePin("215121987001234", nullptr) == kgz1::PinFault::kFormat);
  CHECK(kgz1::ParsePin("2151219870012X", nullptr) == kgz1::PinFault::kFormat);
  CHECK(kgz1::ParsePin("21512198700 23", nullptr) == kgz1::PinFault::kFormat);
  for (char c : {'0', '3', '5', '9'}) {
    CHECK(kgz1::ParsePin(Pin(c, "15121987"), nullptr) == kgz1::PinFault::kSex);
  }
  CHECK(kgz1::ParsePin(Pin('2', "32121987"), nullptr) == kgz1::PinFault::kDate);
  CHECK(kgz1::ParsePin(Pin('2', "15131987"), nullptr) == kgz1::PinFault::kDate);
  CHECK(kgz1::ParsePin(Pin('2', "00121987"), nullptr) == kgz1::PinFault::kDate);
  CHECK(kgz1::ParsePin(Pin('2', "29022001"), nullptr) == kgz1::PinFault::kDate);
  CHECK(kgz1::ParsePin(Pin('2', "15120000"), nullptr) == kgz1::PinFault::kDate);
}

TEST_CASE("kgz-1 maps a valid Person to the shared schema", "[kgz1]") {
  PersonRecord p = PersonOf(Valid());
  CHECK(p.person_id == "21512198700123");
  CHECK(p.id_field == "PIN");
  CHECK(p.pop_type == "REF");
  CHECK(p.coo == "AFG");
  CHECK(p.sex == "M");
  CHECK(p.age == "18-59");
  CHECK(p.region == "KG-GB");
  CHECK(p.registered == Date{2014, 3, 2});
  REQUIRE(p.valid_until.has_value());
  CHECK(*p.valid_until == Date{2016, 3, 1});
}

TEST_CASE("kgz-1 Person children in any order, whitespace around values", "[kgz1]") {
  Elems reversed = Valid();
  std::reverse(reversed.begin(), reversed.end());
  CHECK(KindOf(reversed) == "");
  std::string doc = Doc({});
  const std::string pretty =
      "<Person>\n    <Sex>\n      m\n    </Sex>\n    <PIN> 21512198700123\t</PIN>"
      "<Region> kg-gb </Region><Category>\tmref </Category>"
      "<Nationality> afg</Nationality><BirthDate>1987-12-15 </BirthDate>"
      "<Registered>\n2014-03-02\n</Registered><Surname> x </Surname>"
      "<GivenName>y</GivenName>\n  </Person>";
  RunResult r = Run(Doc({pretty}));
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.persons.size() == 1);
  const PersonRecord& p = r.sink.persons[0].person;
  CHECK(p.person_id == "21512198700123");
  CHECK(p.sex == "M");
  CHECK(p.region == "KG-GB");
  CHECK(p.pop_type == "REF");
  CHECK(p.coo == "AFG");
  CHECK_FALSE(p.valid_until.has_value());
}

TEST_CASE("kgz-1 unknown elements are ignored with their content", "[kgz1]") {
  // Inside a Person: an unknown element holding known names, even a Person.
  const std::string notes =
      "<Notes><PIN>1</PIN><Sex>X</Sex><Person><PIN>2</PIN></Person>text</Notes>"
      "<Patronymic>Маратович</Patronymic><Photo/>";
  PersonRecord p = PersonOf(Valid(), notes);
  CHECK(p.person_id == "21512198700123");
  CHECK(p.sex == "M");
  // At the root: unknown elements are not rows, and Persons inside them are not read.
  const std::string header =
      "<Header><Person><PIN>bad</PIN></Person><Created>2016-01-10</Created></Header>";
  RunResult r = Run(Doc({header, PersonXml(Valid()), "<Summary count=\"2\"/>",
                         PersonXml(Valid({{"Category", "TOUR"}}))}));
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.persons.size() == 1);
  CHECK(r.sink.persons[0].row == 1);
  REQUIRE(r.sink.errors.size() == 1);
  CHECK(r.sink.errors[0].row == 2);
  CHECK(r.sink.errors[0].kind == "unknown_status");
}

TEST_CASE("kgz-1 elements of other namespaces are ignored", "[kgz1]") {
  // A foreign PIN beside ours: ours is read.
  PersonRecord p = PersonOf(Valid(), "<o:PIN xmlns:o=\"urn:other\">11111111111111</o:PIN>");
  CHECK(p.person_id == "21512198700123");
  // A foreign element is no substitute for ours.
  Elems no_pin = Valid({{"PIN", kDrop}});
  RowError e = ErrorOf(no_pin, "<o:PIN xmlns:o=\"urn:other\">21512198700123</o:PIN>");
  CHECK(e.kind == "bad_id_format");
  CHECK(e.field == "PIN");
  e = ErrorOf(Valid({{"Sex", kDrop}}), "<Sex xmlns=\"\">M</Sex>");
  CHECK(e.kind == "unknown_sex");
  e = ErrorOf(Valid({{"Region", kDrop}}), "<Region xmlns=\"urn:other\">KG-GB</Region>");
  CHECK(e.kind == "unknown_region");
  // Persons of another namespace, or of none, are not rows.
  RunResult r = Run(Doc({"<o:Person xmlns:o=\"urn:other\"><o:PIN>x</o:PIN></o:Person>",
                         "<Person xmlns=\"\"><PIN>x</PIN></Person>", PersonXml(Valid()),
                         "<Person xmlns=\"" + kNs + ":2\"/>", PersonXml(Valid())}));
  REQUIRE(r.status.ok());
  CHECK(r.sink.errors.empty());
  REQUIRE(r.sink.persons.size() == 2);
  CHECK(r.sink.persons[0].row == 1);
  CHECK(r.sink.persons[1].row == 2);
  // Foreign attributes and namespace declarations anywhere are harmless.
  r = Run(Doc({"<Person xmlns:x=\"urn:x\" x:id=\"7\" id=\"8\">" +
               PersonXml(Valid()).substr(std::string("<Person>").size())}));
  REQUIRE(r.status.ok());
  CHECK(r.sink.persons.size() == 1);
}

TEST_CASE("kgz-1 text arriving in pieces is put together", "[kgz1]") {
  // Character and entity references, CDATA and comments split text nodes.
  PersonRecord p = PersonOf(Valid({{"PIN", "&#50;1512<!-- c -->1987<![CDATA[001]]>&#x32;3"},
                                   {"Surname", "O&apos;Neil &amp; &lt;Co&gt; &quot;x&quot;"},
                                   {"Sex", "<![CDATA[M]]>"},
                                   {"Region", "KG-<?pi data?>GB"}}));
  CHECK(p.person_id == "21512198700123");
  CHECK(p.region == "KG-GB");
  // A value across many reads.
  DripSource source(Doc({PersonXml(Valid()), PersonXml(Valid())}));
  RunResult r = RunOn(source);
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.persons.size() == 2);
  CHECK(r.sink.persons[1].person.person_id == "21512198700123");
  CHECK(r.sink.persons[1].person.registered == Date{2014, 3, 2});
}

TEST_CASE("kgz-1 elements nested in a known element are ignored, its own text kept", "[kgz1]") {
  PersonRecord p = PersonOf(Valid({{"PIN", "2151219<x>99</x>8700123"}, {"Sex", "<b>F</b>M"}}));
  CHECK(p.person_id == "21512198700123");
  CHECK(p.sex == "M");
}

TEST_CASE("kgz-1 a repeated or oversized element rejects the Person", "[kgz1]") {
  RowError e = ErrorOf(Valid(), "<Sex>M</Sex>");
  CHECK(e.kind == "bad_row");
  CHECK(e.field == "Sex");
  CHECK_THAT(e.reason, Catch::Contains("more than once"));
  e = ErrorOf(Valid(), "<ValidUntil>2016-03-01</ValidUntil>");
  CHECK(e.field == "ValidUntil");
  e = ErrorOf(Valid({{"Surname", std::string(5000, 'a')}}));
  CHECK(e.kind == "bad_row");
  CHECK(e.field == "Surname");
  CHECK_THAT(e.reason, Catch::Contains("4096"));
  CHECK(KindOf(Valid({{"Surname", std::string(4096, 'a')}})) == "");
  // Nothing of the oversized value leaks into the next Person.
  RunResult r =
      Run(Doc({PersonXml(Valid({{"GivenName", std::string(100000, 'b')}})), PersonXml(Valid())}));
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.errors.size() == 1);
  REQUIRE(r.sink.persons.size() == 1);
  CHECK(r.sink.persons[0].row == 2);
}

TEST_CASE("kgz-1 a missing required element is a row error naming it", "[kgz1]") {
  const std::map<std::string, std::string> kinds = {
      {"PIN", "bad_id_format"},       {"Surname", "missing_name"},
      {"GivenName", "missing_name"},  {"BirthDate", "bad_date"},
      {"Sex", "unknown_sex"},         {"Nationality", "unknown_country"},
      {"Category", "unknown_status"}, {"Region", "unknown_region"},
      {"Registered", "bad_date"},
  };
  for (const auto& [element, kind] : kinds) {
    INFO(element);
    RowError e = ErrorOf(Valid({{element, kDrop}}));
    CHECK(e.field == element);
    CHECK(e.kind == kind);
    CHECK(e.reason == "the Person has no <" + element + "> element");
  }
  // ValidUntil is optional, and an empty one means no expiry.
  CHECK_FALSE(PersonOf(Valid({{"ValidUntil", kDrop}})).valid_until.has_value());
  CHECK_FALSE(PersonOf(Valid({{"ValidUntil", ""}})).valid_until.has_value());
  CHECK_FALSE(PersonOf(Valid({{"ValidUntil", " \n "}})).valid_until.has_value());
  // An empty Person fails on the first rule.
  RunResult r = Run(Doc({"<Person/>"}));
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.errors.size() == 1);
  CHECK(r.sink.errors[0].field == "PIN");
}

TEST_CASE("kgz-1 PIN rules", "[kgz1]") {
  CHECK(KindOf(Valid({{"PIN", ""}})) == "bad_id_format");
  CHECK(KindOf(Valid({{"PIN", "2151219870012"}})) == "bad_id_format");
  CHECK(KindOf(Valid({{"PIN", "215121987001234"}})) == "bad_id_format");
  CHECK(KindOf(Valid({{"PIN", "2151219870O123"}})) == "bad_id_format");
  CHECK(KindOf(Valid({{"PIN", "2151 2198700123"}})) == "bad_id_format");
  CHECK(KindOf(Valid({{"PIN", Pin('3', "15121987")}})) == "bad_id_format");
  CHECK(KindOf(Valid({{"PIN", Pin('2', "31111987")}})) == "bad_id_format");
  CHECK(ErrorOf(Valid({{"PIN", Pin('0', "15121987")}})).reason ==
        "the PIN's first digit (sex) is not 1 or 2");
  // No check digit: any serial will do.
  CHECK(KindOf(Valid({{"PIN", Pin('2', "15121987", "99999")}})) == "");
  CHECK(PersonOf(Valid({{"PIN", " 21512198700123 "}})).person_id == "21512198700123");
  // Birth date agreement, on the parts that are known.
  CHECK(KindOf(Valid({{"BirthDate", "1987-12-16"}})) == "id_birth_mismatch");
  CHECK(KindOf(Valid({{"BirthDate", "1987-11-15"}})) == "id_birth_mismatch");
  CHECK(KindOf(Valid({{"BirthDate", "1986-12-15"}})) == "id_birth_mismatch");
  CHECK(KindOf(Valid({{"BirthDate", "1987-12"}})) == "");
  CHECK(KindOf(Valid({{"BirthDate", "1987"}})) == "");
  CHECK(KindOf(Valid({{"BirthDate", "1987-11"}})) == "id_birth_mismatch");
  CHECK(KindOf(Valid({{"BirthDate", "1988"}})) == "id_birth_mismatch");
  CHECK(ErrorOf(Valid({{"BirthDate", "1988"}})).field == "PIN");
  // Sex agreement: 1 female, 2 male.
  CHECK(KindOf(Valid({{"Sex", "F"}})) == "id_sex_mismatch");
  CHECK(ErrorOf(Valid({{"Sex", "F"}})).field == "PIN");
  CHECK(PersonOf(Valid({{"PIN", Pin('1', "15121987")}, {"Sex", "F"}})).sex == "F");
  CHECK(KindOf(Valid({{"PIN", Pin('1', "15121987")}})) == "id_sex_mismatch");
}

TEST_CASE("kgz-1 names are required", "[kgz1]") {
  CHECK(KindOf(Valid({{"Surname", ""}})) == "missing_name");
  CHECK(KindOf(Valid({{"Surname", " \n\t "}})) == "missing_name");
  CHECK(KindOf(Valid({{"Surname", "\xC2\xA0"}})) == "missing_name");  // NBSP
  CHECK(KindOf(Valid({{"GivenName", ""}})) == "missing_name");
  CHECK(ErrorOf(Valid({{"GivenName", ""}})).field == "GivenName");
  CHECK(KindOf(Valid({{"Surname", "<![CDATA[]]>"}})) == "missing_name");
}

TEST_CASE("kgz-1 sex codes", "[kgz1]") {
  CHECK(PersonOf(Valid({{"Sex", "m"}})).sex == "M");
  CHECK(KindOf(Valid({{"Sex", "М"}})) == "unknown_sex");  // Cyrillic Em
  CHECK(KindOf(Valid({{"Sex", "male"}})) == "unknown_sex");
  CHECK(KindOf(Valid({{"Sex", "X"}})) == "unknown_sex");
  CHECK(KindOf(Valid({{"Sex", ""}})) == "unknown_sex");
}

TEST_CASE("kgz-1 ICAO nationality codes", "[kgz1]") {
  CHECK(PersonOf(Valid({{"Nationality", "AFG"}})).coo == "AFG");
  CHECK(PersonOf(Valid({{"Nationality", "tjk"}})).coo == "TJK");
  CHECK(PersonOf(Valid({{"Nationality", "KGZ"}})).coo == "KGZ");
  CHECK(PersonOf(Valid({{"Nationality", "XXA"}})).coo == "XXA");
  CHECK(PersonOf(Valid({{"Nationality", "xxa"}})).coo == "XXA");
  CHECK(PersonOf(Valid({{"Nationality", "XXB"}})).coo == "UNK");
  CHECK(PersonOf(Valid({{"Nationality", "XXC"}})).coo == "UNK");
  CHECK(PersonOf(Valid({{"Nationality", "XXX"}})).coo == "UNK");
  // ICAO's UNK is UNMIK Kosovo, not "unknown"; D (Germany) is ICAO, not ISO.
  CHECK(KindOf(Valid({{"Nationality", "UNK"}})) == "unknown_country");
  CHECK(KindOf(Valid({{"Nationality", "D"}})) == "unknown_country");
  CHECK(KindOf(Valid({{"Nationality", "GBD"}})) == "unknown_country");
  CHECK(KindOf(Valid({{"Nationality", "QQQ"}})) == "unknown_country");
  CHECK(KindOf(Valid({{"Nationality", "AF"}})) == "unknown_country");
  CHECK(KindOf(Valid({{"Nationality", "004"}})) == "unknown_country");
  CHECK(KindOf(Valid({{"Nationality", "AFGH"}})) == "unknown_country");
  CHECK(KindOf(Valid({{"Nationality", ""}})) == "unknown_country");
}

TEST_CASE("kgz-1 categories", "[kgz1]") {
  const std::map<std::string, std::string> cases = {
      {"REF", "REF"}, {"MREF", "REF"}, {"ASY", "ASY"},    {"STL", "STA"},
      {"LMG", "MIG"}, {"lmg", "MIG"},  {" Mref ", "REF"},
  };
  for (const auto& [text, code] : cases) {
    INFO(text);
    CHECK(PersonOf(Valid({{"Category", text}})).pop_type == code);
  }
  for (const char* bad : {"TOUR", "STA", "MIG", "REFUGEE", ""}) {
    INFO(bad);
    CHECK(KindOf(Valid({{"Category", bad}})) == "unknown_status");
  }
}

TEST_CASE("kgz-1 regions are ISO 3166-2:KG codes", "[kgz1]") {
  for (const char* code :
       {"KG-B", "KG-C", "KG-GB", "KG-GO", "KG-J", "KG-N", "KG-O", "KG-T", "KG-Y"}) {
    INFO(code);
    CHECK(PersonOf(Valid({{"Region", code}})).region == code);
  }
  CHECK(PersonOf(Valid({{"Region", "kg-go"}})).region == "KG-GO");
  for (const char* bad : {"KZ-75", "TJ-DU", "KG", "KG-", "KG-XX", "Bishkek", "GB", ""}) {
    INFO(bad);
    CHECK(KindOf(Valid({{"Region", bad}})) == "unknown_region");
  }
}

TEST_CASE("kgz-1 date rules", "[kgz1]") {
  for (const char* bad : {"15.12.1987", "1987-12-32", "1987-13", "1987-00", "1987-12-00", "87",
                          "0000", "1987-2", "1987/12", "19871215", ""}) {
    INFO(bad);
    CHECK(KindOf(Valid({{"BirthDate", bad}})) == "bad_date");
  }
  for (const char* bad : {"2014-02-29", "02.03.2014", "2014-03", "2014", "2014-3-2", ""}) {
    INFO(bad);
    CHECK(KindOf(Valid({{"Registered", bad}})) == "bad_date");
    CHECK(KindOf(Valid({{"ValidUntil", bad[0] ? bad : "x"}})) == "bad_date");
  }
  // Registration against birth, validity against registration.
  CHECK(KindOf(Valid({{"Registered", "1987-12-14"}})) == "reg_before_birth");
  CHECK(KindOf(Valid({{"Registered", "1987-12-15"}, {"ValidUntil", kDrop}})) == "");
  CHECK(KindOf(Valid({{"BirthDate", "1987"}, {"Registered", "1987-01-01"}})) == "");
  CHECK(KindOf(Valid({{"BirthDate", "1987"}, {"Registered", "1986-12-31"}})) == "reg_before_birth");
  CHECK(KindOf(Valid({{"BirthDate", "1987-12"}, {"Registered", "1987-12-01"}})) == "");
  CHECK(KindOf(Valid({{"ValidUntil", "2014-03-01"}})) == "until_before_reg");
  CHECK(KindOf(Valid({{"ValidUntil", "2014-03-02"}})) == "");
  // Expired at the reference date: a valid row, not in the stock.
  PersonRecord expired = PersonOf(Valid({{"ValidUntil", "2015-12-30"}}));
  CHECK_FALSE(InStock(expired, kRef));
  CHECK(InStock(PersonOf(Valid({{"ValidUntil", "2015-12-31"}})), kRef));
  // Registered after the reference date: left to the stock rule.
  PersonRecord later = PersonOf(Valid({{"Registered", "2016-01-01"}, {"ValidUntil", kDrop}}));
  CHECK_FALSE(InStock(later, kRef));
}

TEST_CASE("kgz-1 birth after the reference date", "[kgz1]") {
  CHECK(KindOf(Born("2016-01-01", "2016-01-01")) == "future_birth");
  CHECK(KindOf(Born("2016-01-01", "2016-01")) == "future_birth");
  CHECK(KindOf(Born("2016-01-01", "2016")) == "future_birth");
  // Born in 2015 (or December 2015), day unknown: not provably in the future.
  CHECK(PersonOf(Born("2015-12-31", "2015")).age == "0-4");
  CHECK(PersonOf(Born("2015-12-31", "2015-12")).age == "0-4");
  CHECK(PersonOf(Born("2015-12-31", "2015-12-31")).age == "0-4");
}

TEST_CASE("kgz-1 age bands at the reference date", "[kgz1]") {
  auto age = [](const std::string& iso, const std::string& text) {
    return PersonOf(Born(iso, text)).age;
  };
  CHECK(age("2010-12-31", "2010-12-31") == "5-11");
  CHECK(age("2011-01-01", "2011-01-01") == "0-4");
  CHECK(age("1997-12-31", "1997-12-31") == "18-59");
  CHECK(age("1998-01-01", "1998-01-01") == "12-17");
  CHECK(age("1955-12-31", "1955-12-31") == "60+");
  CHECK(age("1956-01-01", "1956-01-01") == "18-59");
  // Unknown month: 1 July; unknown day: the 15th (the PIN's exact date is not used).
  CHECK(age("1997-12-31", "1997") == "18-59");
  CHECK(age("1998-12-31", "1998") == "12-17");
  CHECK(age("2003-12-31", "2003-12") == "12-17");  // 2003-12-15: 12 years
  CHECK(age("2004-01-01", "2004-01") == "5-11");   // 2004-01-15: 11 years
  CHECK(age("1955-12-31", "1955-12") == "60+");
}

TEST_CASE("kgz-1 first failing rule is the one reported", "[kgz1]") {
  RowError e =
      ErrorOf(Valid({{"Surname", ""}, {"Region", "KG-X"}, {"Category", "TOUR"}, {"Sex", "F"}}));
  CHECK(e.kind == "missing_name");
  CHECK(e.field == "Surname");
  e = ErrorOf(Valid({{"Region", "KG-X"}, {"Category", "TOUR"}, {"Sex", "F"}}));
  CHECK(e.kind == "id_sex_mismatch");
  e = ErrorOf(Valid({{"Region", "KG-X"}, {"Category", "TOUR"}}));
  CHECK(e.kind == "unknown_status");
  CHECK(e.field == "Category");
}

TEST_CASE("kgz-1 row numbers are Person ordinals; errors carry no values", "[kgz1]") {
  RunResult r = Run(Doc({PersonXml(Valid()), PersonXml(Valid({{"PIN", "21512198700124X"}})),
                         PersonXml(Valid({{"Region", "Нарын"}})), PersonXml(Valid()),
                         PersonXml(Valid({{"Surname", ""}, {"GivenName", "Айгерим"}}))}));
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.persons.size() == 2);
  CHECK(r.sink.persons[0].row == 1);
  CHECK(r.sink.persons[1].row == 4);
  REQUIRE(r.sink.errors.size() == 3);
  CHECK(r.sink.errors[0].row == 2);
  CHECK(r.sink.errors[1].row == 3);
  CHECK(r.sink.errors[2].row == 5);
  for (const RowError& e : r.sink.errors) {
    CHECK_FALSE(e.reason.empty());
    for (const char* secret : {"21512198700124", "Нарын", "Айгерим", "15121987", "1987-12-15"}) {
      CHECK(e.reason.find(secret) == std::string::npos);
    }
  }
}

TEST_CASE("kgz-1 an empty register is zero rows", "[kgz1]") {
  for (const std::string& doc :
       {Doc({}), "<MigrantRegister xmlns=\"" + kNs + "\" referenceDate=\"2015-12-31\"/>"}) {
    RunResult r = Run(doc);
    INFO(r.status.ToString());
    CHECK(r.status.ok());
    CHECK(r.sink.persons.empty());
    CHECK(r.sink.errors.empty());
  }
}

// --- Whole-file faults -------------------------------------------------------------

// The message of the whole-file fault the document must cause.
std::string FaultOf(const std::string& doc, const std::string& charset = "") {
  RunResult r = Run(doc, charset);
  REQUIRE_FALSE(r.status.ok());
  CHECK(r.status.code() == Code::kInvalidArgument);
  CHECK_FALSE(r.status.message().empty());
  return r.status.message();
}

TEST_CASE("kgz-1 a DOCTYPE rejects the file", "[kgz1]") {
  const std::string decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  const std::string body = Doc({PersonXml(Valid())}).substr(decl.size());
  std::string s = FaultOf(decl + "<!DOCTYPE MigrantRegister>\n" + body);
  // expat reports the DOCTYPE once it has read its name: the column is that of its end.
  CHECK(s ==
        "document type declaration (<!DOCTYPE) at line 2, column 26, before the first Person: "
        "kgz-1 files must not have one");
  FaultOf(decl + "<!DOCTYPE MigrantRegister SYSTEM \"file:///etc/passwd\">\n" + body);
  FaultOf("<!DOCTYPE MigrantRegister PUBLIC \"-//X//EN\" \"http://example.org/x.dtd\">" + body);
}

TEST_CASE("kgz-1 entity declarations and expansion are impossible", "[kgz1]") {
  // Billion laughs: refused at the DOCTYPE, before a single entity is declared.
  std::string lol =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE MigrantRegister [\n"
      "<!ENTITY lol0 \"lol\">\n";
  for (int i = 1; i <= 9; ++i) {
    lol += "<!ENTITY lol" + std::to_string(i) + " \"";
    for (int k = 0; k < 10; ++k) lol += "&lol" + std::to_string(i - 1) + ";";
    lol += "\">\n";
  }
  lol += "<!ENTITY % ext SYSTEM \"file:///etc/passwd\"> %ext;\n]>\n";
  const std::string body = Doc({PersonXml(Valid({{"Surname", "&lol9;"}}))})
                               .substr(std::string("<?xml version=\"1.0\" "
                                                   "encoding=\"UTF-8\"?>\n")
                                           .size());
  const auto start = std::chrono::steady_clock::now();
  RunResult r = Run(lol + body);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  REQUIRE_FALSE(r.status.ok());
  CHECK_THAT(r.status.message(), Catch::Contains("DOCTYPE") && Catch::Contains("line 2"));
  CHECK(r.sink.persons.empty());
  CHECK(r.sink.errors.empty());
  // An ENTITY declaration outside a DTD is not XML at all.
  std::string s = FaultOf("<!ENTITY x \"y\">" + body);
  CHECK_THAT(s, Catch::StartsWith("malformed XML at line 1"));
  // A reference to an undeclared entity is not expanded to anything.
  s = FaultOf(Doc({PersonXml(Valid({{"Surname", "&x;"}}))}));
  CHECK_THAT(s, Catch::StartsWith("malformed XML at line 3, column ") &&
                    Catch::Contains("in Person 1") && Catch::Contains("undefined entity"));
}

TEST_CASE("kgz-1 malformed XML names line, column and Person", "[kgz1]") {
  std::string doc = Doc({PersonXml(Valid()), PersonXml(Valid()), PersonXml(Valid())});
  // Person 3 is on line 5; break its Sex end tag.
  const size_t at = doc.rfind("<Sex>M</Sex>");
  doc.replace(at, 12, "<Sex>M</Sx>");
  // expat counts columns in characters, and points at the wrong end tag's name.
  const size_t line_start = doc.rfind('\n', at) + 1;
  size_t column = 1;
  for (size_t i = line_start; i < at + std::string("<Sex>M</").size(); ++i) {
    column += (static_cast<unsigned char>(doc[i]) & 0xC0) != 0x80;
  }
  RunResult r = Run(doc);
  REQUIRE_FALSE(r.status.ok());
  CHECK(r.status.message() == "malformed XML at line 5, column " + std::to_string(column) +
                                  ", in Person 3: mismatched tag");
  // Persons before the fault were already delivered; the run as a whole failed.
  CHECK(r.sink.persons.size() == 2);
  // Junk after the root, and a second root.
  std::string s = FaultOf(Doc({}) + "<MigrantRegister/>");
  CHECK_THAT(s, Catch::Contains("line 4") && Catch::Contains("junk after document"));
  s = FaultOf(Doc({PersonXml(Valid())}) + "text");
  CHECK_THAT(s, Catch::Contains("after Person 1"));
  // An unbound prefix.
  FaultOf(Doc({PersonXml(Valid(), "<q:x/>")}));
}

TEST_CASE("kgz-1 invalid UTF-8 rejects the file with its position", "[kgz1]") {
  for (const std::string bad : {"\xFF", "\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80"}) {
    std::string doc = Doc({PersonXml(Valid()), PersonXml(Valid({{"Surname", "Ab" + bad + "cd"}}))});
    const size_t at = doc.find("Ab" + bad) + 2;
    const size_t line_start = doc.rfind('\n', at) + 1;
    RunResult r = Run(doc);
    REQUIRE_FALSE(r.status.ok());
    CHECK(r.status.code() == Code::kInvalidArgument);
    CHECK_THAT(r.status.message(),
               Catch::StartsWith("malformed XML at line 4, column " +
                                 std::to_string(at - line_start + 1) + ", in Person 2: ") &&
                   Catch::Contains("UTF-8"));
    CHECK(r.sink.persons.size() == 1);
  }
  // Control characters are not XML, even as character references.
  FaultOf(Doc({PersonXml(Valid({{"Surname", "a\x01"}}))}));
  FaultOf(Doc({PersonXml(Valid({{"Surname", "a&#1;"}}))}));
}

TEST_CASE("kgz-1 a truncated document is a whole-file fault", "[kgz1]") {
  const std::string text = ReadFixture("kgz-1.xml");
  const size_t cut = text.find("<Person>", text.size() / 2) + 40;
  int ordinal = 0;
  for (size_t at = text.find("<Person>"); at < cut; at = text.find("<Person>", at + 1)) ++ordinal;
  REQUIRE(ordinal > 40);
  RunResult r = Run(text.substr(0, cut));
  REQUIRE_FALSE(r.status.ok());
  CHECK_THAT(r.status.message(), Catch::Contains("truncated") &&
                                     Catch::Contains("in Person " + std::to_string(ordinal)));
  CHECK(r.sink.persons.size() + r.sink.errors.size() == static_cast<size_t>(ordinal - 1));
  // Every prefix that lacks the root's end tag is refused.
  const size_t end = text.rfind("</MigrantRegister>");
  for (size_t n = 0; n <= end; n += 89) {
    INFO(n);
    RunResult p = Run(text.substr(0, n));
    CHECK_FALSE(p.status.ok());
    CHECK_FALSE(p.status.message().empty());
  }
}

TEST_CASE("kgz-1 empty and blank files", "[kgz1]") {
  CHECK(FaultOf("") == "file is empty (no XML document)");
  CHECK_THAT(FaultOf(" \n\n"), Catch::StartsWith("malformed XML at line 3"));
  FaultOf("<?xml version=\"1.0\"?>");
  FaultOf("\xEF\xBB\xBF");
}

TEST_CASE("kgz-1 the root element and its attributes", "[kgz1]") {
  const std::string person = PersonXml(Valid());
  std::string s =
      FaultOf("<MigrantRegister referenceDate=\"2015-12-31\">" + person + "</MigrantRegister>");
  CHECK(s ==
        "the root element at line 1, column 1, before the first Person is not MigrantRegister in "
        "namespace urn:kg:grs:migrant-register:1");
  FaultOf("<Register xmlns=\"" + kNs + "\" referenceDate=\"2015-12-31\"/>");
  FaultOf("<MigrantRegister xmlns=\"" + kNs + ":2\" referenceDate=\"2015-12-31\"/>");
  // referenceDate: required, ISO, equal to the snapshot's.
  s = FaultOf(Doc({person}, "country=\"KGZ\""));
  CHECK(s ==
        "the root element at line 2, column 1, before the first Person has no referenceDate "
        "attribute");
  s = FaultOf(Doc({person}, "referenceDate=\"31.12.2015\""));
  CHECK_THAT(s, Catch::Contains("is not a date YYYY-MM-DD"));
  FaultOf(Doc({person}, "referenceDate=\"2015-12-31T00:00:00\""));
  s = FaultOf(Doc({person}, "referenceDate=\"2015-06-30\""));
  CHECK(s ==
        "the root element's referenceDate 2015-06-30 at line 2, column 1, before the first "
        "Person is not the snapshot's reference date 2015-12-31");
  RunResult r = Run(Doc({person}, "referenceDate=\"2015-06-30\""), "", Date{2015, 6, 30});
  CHECK(r.status.ok());
  // A referenceDate in another namespace is not the profile's.
  FaultOf(Doc({person}, "xmlns:o=\"urn:o\" o:referenceDate=\"2015-12-31\""));
  // country: optional, and KGZ if present.
  CHECK(Run(Doc({person}, "referenceDate=\"2015-12-31\"")).status.ok());
  CHECK(Run(Doc({person}, "referenceDate=\"2015-12-31\" country=\"kgz\"")).status.ok());
  s = FaultOf(Doc({person}, "referenceDate=\"2015-12-31\" country=\"KAZ\""));
  CHECK(s ==
        "the root element's country attribute at line 2, column 1, before the first Person is "
        "not KGZ");
  FaultOf(Doc({person}, "referenceDate=\"2015-12-31\" country=\"\""));
}

TEST_CASE("kgz-1 only UTF-8", "[kgz1]") {
  const std::string body = Doc({PersonXml(Valid())});
  for (const char* name : {"windows-1251", "utf-16", "latin1", "utf-8//IGNORE"}) {
    std::string s = FaultOf(body, name);
    CHECK_THAT(s, Catch::Contains(name) && Catch::Contains("not accepted by kgz-1"));
  }
  CHECK(Run(body, "utf8").status.ok());
  // A file that declares another encoding was written in it.
  std::string latin = body;
  latin.replace(latin.find("UTF-8"), 5, "ISO-8859-1");
  std::string s = FaultOf(latin);
  CHECK(s ==
        "the XML declaration names encoding \"ISO-8859-1\" at line 1, column 1, before the first "
        "Person; kgz-1 files must be UTF-8");
  std::string lower = body;
  lower.replace(lower.find("UTF-8"), 5, "utf-8");
  CHECK(Run(lower).status.ok());
  // UTF-16 (with its BOM) is not UTF-8.
  std::string utf16 = "\xFF\xFE";
  for (char c : std::string("<?xml version=\"1.0\"?><MigrantRegister/>")) {
    utf16 += c;
    utf16 += '\0';
  }
  FaultOf(utf16);
}

TEST_CASE("kgz-1 nesting is bounded", "[kgz1]") {
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<x>";
  for (int i = 0; i < 100; ++i) deep += "</x>";
  std::string s = FaultOf(Doc({PersonXml(Valid(), deep)}));
  CHECK_THAT(s, Catch::Contains("nested more than 64") && Catch::Contains("in Person 1"));
  CHECK(Run(Doc({PersonXml(Valid(), deep.substr(0, 3 * 50) + deep.substr(300, 4 * 50))}))
            .status.ok());
}

// --- Streaming ---------------------------------------------------------------------

// Generates a register of `count` valid Persons on the fly, counting bytes served.
class GeneratedSource : public ByteSource {
 public:
  explicit GeneratedSource(int count) : count_(count) {
    pending_ = Doc({}).substr(0, Doc({}).find("</MigrantRegister>"));
  }
  Result<size_t> Read(char* buffer, size_t capacity) override {
    max_capacity = std::max(max_capacity, capacity);
    while (pending_.size() - pos_ < capacity && (made_ < count_ || !closed_)) {
      pending_.erase(0, pos_);
      pos_ = 0;
      if (made_ < count_) {
        pending_ += PersonXml(Valid()) + "\n";
        ++made_;
      } else {
        pending_ += "</MigrantRegister>\n";
        closed_ = true;
      }
    }
    const size_t n = std::min(capacity, pending_.size() - pos_);
    pending_.copy(buffer, n, pos_);
    pos_ += n;
    served += n;
    return n;
  }
  uint64_t served = 0;
  size_t max_capacity = 0;

 private:
  int count_, made_ = 0;
  bool closed_ = false;
  std::string pending_;
  size_t pos_ = 0;
};

class CountingSink : public RecordSink {
 public:
  explicit CountingSink(const GeneratedSource& source) : source_(source) {}
  Status OnPerson(uint64_t row, PersonRecord&&) override {
    if (persons == 0) served_at_first = source_.served;
    last_row = row;
    ++persons;
    return Status::Ok();
  }
  Status OnCell(uint64_t, CellRecord&&) override { return Status::Internal("no cells"); }
  Status OnRowError(RowError&&) override { return Status::Internal("no errors expected"); }
  uint64_t persons = 0, last_row = 0, served_at_first = 0;

 private:
  const GeneratedSource& source_;
};

TEST_CASE("kgz-1 streams: Persons come out while the file is still being read", "[kgz1]") {
  const int count = 40000;
  GeneratedSource source(count);
  CountingSink sink(source);
  std::unique_ptr<Adapter> adapter = kgz1::NewAdapter();
  Status s = adapter->Run(source, AdapterContext{"KGZ", kRef, "utf-8"}, sink);
  REQUIRE(s.ok());
  CHECK(sink.persons == count);
  CHECK(sink.last_row == count);
  CHECK(source.served > 10'000'000);
  CHECK(sink.served_at_first <= 64 * 1024);
  CHECK(source.max_capacity <= 64 * 1024);
}

TEST_CASE("kgz-1 a failing sink stops the run with its status", "[kgz1]") {
  std::unique_ptr<Adapter> adapter = kgz1::NewAdapter();
  StringSource source(ReadFixture("kgz-1.xml"));
  TestSink sink;
  sink.fail_after_persons = 3;
  Status s = adapter->Run(source, AdapterContext{"KGZ", kRef, "utf-8"}, sink);
  CHECK(s.code() == Code::kInternal);
  CHECK(s.message() == "sink full");
  CHECK(sink.persons.size() == 4);
}

TEST_CASE("kgz-1 an adapter instance can be run twice", "[kgz1]") {
  std::unique_ptr<Adapter> adapter = kgz1::NewAdapter();
  for (int i = 0; i < 2; ++i) {
    StringSource source(Doc({PersonXml(Valid()), PersonXml(Valid({{"Sex", "F"}}))}));
    TestSink sink;
    REQUIRE(adapter->Run(source, AdapterContext{"KGZ", kRef, "utf-8"}, sink).ok());
    CHECK(sink.persons.size() == 1);
    REQUIRE(sink.errors.size() == 1);
    CHECK(sink.errors[0].row == 2);
  }
}

// Serves `head`, then `filler` `times` times, then `tail`, without holding it all.
class RepeatSource : public ByteSource {
 public:
  RepeatSource(std::string head, std::string filler, size_t times, std::string tail)
      : parts_{std::move(head), std::move(filler), std::move(tail)}, times_(times) {}
  Result<size_t> Read(char* buffer, size_t capacity) override {
    size_t n = 0;
    while (n < capacity && part_ < 3) {
      const std::string& p = parts_[part_];
      const size_t k = std::min(capacity - n, p.size() - pos_);
      p.copy(buffer + n, k, pos_);
      n += k;
      pos_ += k;
      if (pos_ == p.size()) {
        pos_ = 0;
        if (part_ != 1 || ++done_ >= times_) ++part_;
      }
    }
    return n;
  }

 private:
  std::string parts_[3];
  size_t times_, done_ = 0, part_ = 0, pos_ = 0;
};

TEST_CASE("kgz-1 long text is consumed as it comes; an endless token is refused", "[kgz1]") {
  const std::string doc = Doc({PersonXml(Valid(), "<Notes>@</Notes>")});
  const size_t at = doc.find('@');
  const std::string head = doc.substr(0, at), tail = doc.substr(at + 1);
  const std::string filler(1000, 'x');
  {  // 12 MB of text in an ignored element: fine.
    RepeatSource source(head, filler, 12000, tail);
    RunResult r = RunOn(source);
    INFO(r.status.ToString());
    REQUIRE(r.status.ok());
    CHECK(r.sink.persons.size() == 1);
  }
  // 12 MB inside one comment, one attribute value, one tag name: refused early.
  const std::vector<std::pair<std::string, std::string>> tokens = {
      {"<!--", "-->"}, {"<Note a=\"", "\"/>"}, {"<N", "/>"}};
  for (const auto& [open, close] : tokens) {
    INFO(open);
    RepeatSource source(head.substr(0, head.size() - std::string("<Notes>").size()) + open, filler,
                        20000, close + "</Person></MigrantRegister>");
    RunResult r = RunOn(source);
    REQUIRE_FALSE(r.status.ok());
    CHECK_THAT(r.status.message(),
               Catch::StartsWith("more than 8 MiB without the end of an XML tag") &&
                   Catch::Contains("in Person 1"));
  }
}

}  // namespace
}  // namespace gw
