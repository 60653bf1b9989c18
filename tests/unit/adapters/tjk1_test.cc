#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unicode/normalizer2.h>
#include <unicode/unistr.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "adapters/tjk-1/tjk1_adapter.h"
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

const Date kRef{2016, 12, 31};  // the samples' reference date

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(GW_FIXTURES_DIR) + "/" + name, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Normalize(const std::string& utf8, bool decompose) {
  UErrorCode ec = U_ZERO_ERROR;
  const icu::Normalizer2* n =
      decompose ? icu::Normalizer2::getNFDInstance(ec) : icu::Normalizer2::getNFCInstance(ec);
  REQUIRE(U_SUCCESS(ec));
  const icu::UnicodeString out = n->normalize(icu::UnicodeString::fromUTF8(utf8), ec);
  REQUIRE(U_SUCCESS(ec));
  std::string text;
  out.toUTF8String(text);
  return text;
}

std::string Nfd(const std::string& utf8) { return Normalize(utf8, true); }

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

RunResult Run(const std::string& data, const std::string& charset = "", Date ref = kRef) {
  const AdapterInfo* info = AdapterRegistry::Global().Find("tjk-1");
  REQUIRE(info != nullptr);
  std::unique_ptr<Adapter> adapter = info->create();
  StringSource source(data);
  RunResult r;
  r.status = adapter->Run(source, AdapterContext{"TJK", ref, charset}, r.sink);
  return r;
}

// --- Comparison with a truth file -------------------------------------------

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

json Truth(const std::string& name) { return json::parse(ReadFixture(name)); }

void CheckAgainstTruth(const RunResult& r, const json& truth) {
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
  REQUIRE(truth["ref_date"] == kRef.ToIso());
  CHECK(r.sink.cells == 0);

  // Rejected rows: all but duplicate_id are the adapter's job.
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
  for (const RowError& e : r.sink.errors) {
    CHECK(actual_errors.count(e.row) == 0);  // one error per row
    actual_errors[e.row] = e.kind;
  }
  CHECK(actual_errors == expected_errors);

  // Duplicates are emitted, with the same person_id as an earlier row.
  std::map<std::string, uint64_t> first_row_of_id;
  std::vector<const PersonRecord*> valid;
  std::set<uint64_t> seen_duplicates;
  for (const Emitted& e : r.sink.persons) {
    CHECK(e.person.id_field == "Рақами парванда");
    CHECK(e.person.person_id.size() == 9);
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

  size_t expired = 0, in_stock = 0;
  std::map<std::string, std::map<std::string, int64_t>> counts;
  for (const PersonRecord* p : valid) {
    if (!InStock(*p, kRef)) {
      // Every valid row is registered by the reference date in the samples.
      CHECK(p->registered <= kRef);
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

TEST_CASE("tjk-1 is registered", "[tjk1]") {
  const AdapterInfo* info = AdapterRegistry::Global().Find("tjk-1");
  REQUIRE(info != nullptr);
  CHECK(info->country == "TJK");
  CHECK(info->charsets == std::vector<std::string>{"utf-8"});
  CHECK(info->media_type == "text/csv");
}

TEST_CASE("tjk-1 sample matches its truth", "[tjk1]") {
  CheckAgainstTruth(Run(ReadFixture("tjk-1.csv"), "utf-8"), Truth("tjk-1.truth.json"));
  CheckAgainstTruth(Run(ReadFixture("tjk-1.csv"), ""), Truth("tjk-1.truth.json"));
  CheckAgainstTruth(Run(ReadFixture("tjk-1.csv"), "UTF8"), Truth("tjk-1.truth.json"));
}

TEST_CASE("tjk-1 NFD sample matches its truth", "[tjk1]") {
  const std::string text = ReadFixture("tjk-1.nfd.csv");
  // The fixture really is decomposed: ӣ, ӯ and й are split in headers and codes.
  REQUIRE(text == Nfd(text));
  REQUIRE(text != Normalize(text, false));
  CheckAgainstTruth(Run(text, "utf-8"), Truth("tjk-1.nfd.truth.json"));
  // And its NFC form gives the same answer.
  CheckAgainstTruth(Run(Normalize(text, false), "utf-8"), Truth("tjk-1.nfd.truth.json"));
}

TEST_CASE("tjk-1 main sample in NFD, with a BOM and CRLF, matches its truth", "[tjk1]") {
  const std::string nfc = ReadFixture("tjk-1.csv");
  const std::string nfd = Nfd(nfc);
  REQUIRE(nfd != nfc);
  CheckAgainstTruth(Run(nfd, "utf-8"), Truth("tjk-1.truth.json"));
  std::string crlf = "\xEF\xBB\xBF";
  for (char c : nfc) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  CheckAgainstTruth(Run(crlf, "utf-8"), Truth("tjk-1.truth.json"));
}

TEST_CASE("tjk-1 row errors never carry identifying values", "[tjk1]") {
  const std::string text = ReadFixture("tjk-1.csv");
  RunResult r = Run(text, "utf-8");
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.errors.size() == 8);
  // Every case-file number NN-NNNNNN, every DD/MM/YYYY date and every name.
  std::set<std::string> secrets;
  auto digit = [&](size_t i) { return std::isdigit(static_cast<unsigned char>(text[i])) != 0; };
  for (size_t i = 0; i + 9 <= text.size(); ++i) {
    bool ok = text[i + 2] == '-';
    for (size_t k = 0; k < 9 && ok; ++k) ok = k == 2 || digit(i + k);
    if (ok) secrets.insert(text.substr(i, 9));
  }
  for (size_t i = 0; i + 10 <= text.size(); ++i) {
    if (text[i + 2] == '/' && text[i + 5] == '/' && digit(i)) secrets.insert(text.substr(i, 10));
  }
  for (const char* name : {"Хасанов", "Рахимова", "Зарина", "Раҳимовна", "Ахмадович", "кӯҳна",
                           "Сулейманов", "Нодира", "Камол"})
    secrets.insert(name);
  REQUIRE(secrets.size() > 200);
  for (const RowError& e : r.sink.errors) {
    CHECK_FALSE(e.reason.empty());
    for (const std::string& s : secrets) {
      CHECK(e.reason.find(s) == std::string::npos);
      CHECK(e.field.find(s) == std::string::npos);
    }
  }
}

// --- Small hand-made files ----------------------------------------------------

const std::string kCase = "Рақами парванда";
const std::string kSurname = "Насаб";
const std::string kGiven = "Ном";
const std::string kPatronymic = "Номи падар";
const std::string kBirth = "Санаи таваллуд";
const std::string kSex = "Ҷинс";
const std::string kCountry = "Шаҳрвандӣ";
const std::string kStatus = "Мақом";
const std::string kRegion = "Минтақа";
const std::string kReg = "Санаи бақайдгирӣ";
const std::string kUntil = "Мӯҳлати эътибор";

const std::vector<std::string> kHeaders = {kCase,    kSurname, kGiven,  kPatronymic, kBirth, kSex,
                                           kCountry, kStatus,  kRegion, kReg,        kUntil};

using Cells = std::map<std::string, std::string>;

// A valid row (born 1990-01-01, registered 2010-02-01); tests override cells.
Cells Valid(const Cells& overrides = {}) {
  Cells c = {
      {kCase, "10-123456"},     {kSurname, "Раҳимов"},  {kGiven, "Фирӯз"},
      {kPatronymic, ""},        {kBirth, "01/01/1990"}, {kSex, "мард"},
      {kCountry, "Афғонистон"}, {kStatus, "гуреза"},    {kRegion, "ш. Душанбе"},
      {kReg, "01/02/2010"},     {kUntil, ""},
  };
  for (const auto& [k, v] : overrides) c[k] = v;
  return c;
}

std::string Quote(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Csv(const std::vector<std::string>& headers, const std::vector<Cells>& rows) {
  std::string out;
  for (size_t i = 0; i < headers.size(); ++i) out += (i ? "," : "") + Quote(headers[i]);
  out += "\r\n";
  for (const Cells& row : rows) {
    for (size_t i = 0; i < headers.size(); ++i) {
      auto it = row.find(headers[i]);
      out += (i ? "," : "") + Quote(it == row.end() ? "" : it->second);
    }
    out += "\r\n";
  }
  return out;
}

std::string Body(const std::vector<Cells>& rows) {
  return Csv(kHeaders, rows).substr(Csv(kHeaders, {}).size());
}

// The kind of the single row's error, or "" if it was accepted.
std::string KindOf(const Cells& row) {
  RunResult r = Run(Csv(kHeaders, {row}));
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.persons.size() + r.sink.errors.size() == 1);
  return r.sink.errors.empty() ? "" : r.sink.errors[0].kind;
}

PersonRecord PersonOf(const Cells& row) {
  RunResult r = Run(Csv(kHeaders, {row}));
  REQUIRE(r.status.ok());
  INFO((r.sink.errors.empty() ? "" : r.sink.errors[0].kind + ": " + r.sink.errors[0].reason));
  REQUIRE(r.sink.persons.size() == 1);
  return r.sink.persons[0].person;
}

TEST_CASE("tjk-1 maps a valid row to the shared schema", "[tjk1]") {
  PersonRecord p = PersonOf(Valid({{kUntil, "31/01/2017"}}));
  CHECK(p.person_id == "10-123456");
  CHECK(p.id_field == "Рақами парванда");
  CHECK(p.pop_type == "REF");
  CHECK(p.coo == "AFG");
  CHECK(p.sex == "M");
  CHECK(p.age == "18-59");
  CHECK(p.region == "TJ-DU");
  CHECK(p.registered == Date{2010, 2, 1});
  REQUIRE(p.valid_until.has_value());
  CHECK(*p.valid_until == Date{2017, 1, 31});
  CHECK_FALSE(PersonOf(Valid()).valid_until.has_value());
}

TEST_CASE("tjk-1 columns may come in any order; unknown ones are ignored", "[tjk1]") {
  std::vector<std::string> headers(kHeaders.rbegin(), kHeaders.rend());
  headers.insert(headers.begin() + 3, "Эзоҳ");
  headers.push_back("Extra");
  Cells row = Valid({{"Эзоҳ", "қайд, \"муҳим\"\nсатри дуюм"}, {"Extra", "x"}});
  RunResult r = Run(Csv(headers, {row, Valid({{kCase, "10-000001"}})}));
  REQUIRE(r.status.ok());
  CHECK(r.sink.errors.empty());
  REQUIRE(r.sink.persons.size() == 2);
  CHECK(r.sink.persons[1].row == 2);
  CHECK(r.sink.persons[0].person.region == "TJ-DU");
  CHECK(r.sink.persons[1].person.person_id == "10-000001");
}

TEST_CASE("tjk-1 headers match after case folding, trimming and NFD", "[tjk1]") {
  std::vector<std::string> headers;
  for (const std::string& h : kHeaders) {
    icu::UnicodeString u = icu::UnicodeString::fromUTF8(h);
    u.toUpper();
    std::string upper;
    u.toUTF8String(upper);
    headers.push_back("  " + Nfd(upper) + " ");
  }
  RunResult r = Run(Csv(headers, {}) + Body({Valid()}));
  REQUIRE(r.status.ok());
  CHECK(r.sink.persons.size() == 1);
  CHECK(r.sink.persons[0].person.id_field == "Рақами парванда");  // canonical, NFC
}

TEST_CASE("tjk-1 code values match in NFD and any case", "[tjk1]") {
  PersonRecord p = PersonOf(Valid({{kCountry, Nfd("ӮЗБЕКИСТОН")},
                                   {kStatus, Nfd("Муҳоҷири  Меҳнатӣ ")},
                                   {kSex, Nfd("ЗАН")},
                                   {kRegion, Nfd("Вилояти Суғд")}}));
  CHECK(p.coo == "UZB");
  CHECK(p.pop_type == "MIG");
  CHECK(p.sex == "F");
  CHECK(p.region == "TJ-SU");
  CHECK(PersonOf(Valid({{kStatus, Nfd("паноҳҷӯ")}})).pop_type == "ASY");
  CHECK(PersonOf(Valid({{kRegion, Nfd("НТҶ")}})).region == "TJ-RA");
}

TEST_CASE("tjk-1 without the patronymic column is fine", "[tjk1]") {
  std::vector<std::string> headers = kHeaders;
  headers.erase(headers.begin() + 3);
  RunResult r = Run(Csv(headers, {Valid()}));
  REQUIRE(r.status.ok());
  CHECK(r.sink.persons.size() == 1);
}

TEST_CASE("tjk-1 missing required column rejects the file naming it", "[tjk1]") {
  for (size_t drop = 0; drop < kHeaders.size(); ++drop) {
    if (kHeaders[drop] == kPatronymic) continue;
    std::vector<std::string> headers = kHeaders;
    headers.erase(headers.begin() + static_cast<long>(drop));
    RunResult r = Run(Csv(headers, {Valid()}));
    REQUIRE_FALSE(r.status.ok());
    CHECK(r.status.code() == Code::kInvalidArgument);
    CHECK(r.status.message() ==
          "missing required column \"" + kHeaders[drop] + "\" in header (line 1)");
    CHECK(r.sink.persons.empty());
  }
  // A BOM and blank lines before the header: the message names the header's line.
  RunResult r = Run("\xEF\xBB\xBF\n\n" + Csv({kCase, kSurname}, {}));
  REQUIRE_FALSE(r.status.ok());
  CHECK(r.status.message() == "missing required column \"Ном\" in header (line 3)");
}

TEST_CASE("tjk-1 duplicated column rejects the file", "[tjk1]") {
  std::vector<std::string> headers = kHeaders;
  headers.push_back(Nfd("МИНТАҚА"));
  RunResult r = Run(Csv(headers, {Valid()}));
  REQUIRE_FALSE(r.status.ok());
  CHECK(r.status.code() == Code::kInvalidArgument);
  CHECK_THAT(r.status.message(), Catch::Contains("Минтақа") && Catch::Contains("twice"));
}

TEST_CASE("tjk-1 quoted fields with ',', '\"\"' and line breaks", "[tjk1]") {
  Cells tricky = Valid({{kSurname, "Тураева, \"кӯҳна\"\r\nном"}, {kPatronymic, "a\nb,c"}});
  Cells second =
      Valid({{kCase, "16-000002"}, {kBirth, "11/12/2006"}, {kSex, "зан"}, {kReg, "01/03/2016"}});
  RunResult r = Run(Csv(kHeaders, {tricky, second}));
  REQUIRE(r.status.ok());
  CHECK(r.sink.errors.empty());
  REQUIRE(r.sink.persons.size() == 2);
  CHECK(r.sink.persons[0].row == 1);
  CHECK(r.sink.persons[1].row == 2);  // records, not physical lines
  CHECK(r.sink.persons[1].person.sex == "F");
  CHECK(r.sink.persons[1].person.age == "5-11");
}

TEST_CASE("tjk-1 malformed quoting rejects the file with its line", "[tjk1]") {
  std::string csv = Csv(kHeaders, {Valid()});
  csv += "\"10-123456\"x,a,b,c,d,e,f,g,h,i,j\r\n";
  RunResult r = Run(csv);
  REQUIRE_FALSE(r.status.ok());
  CHECK(r.status.code() == Code::kInvalidArgument);
  CHECK_THAT(r.status.message(), Catch::Contains("line 3"));

  RunResult open = Run(Csv(kHeaders, {Valid()}) + "10-123456,\"unterminated\r\n");
  REQUIRE_FALSE(open.status.ok());
  CHECK_THAT(open.status.message(), Catch::Contains("line 3"));
}

TEST_CASE("tjk-1 invalid UTF-8 rejects the file with the byte offset", "[tjk1]") {
  std::string csv = Csv(kHeaders, {Valid()});
  // "10-123456,Ab\xFF": the bad byte is 9 + 1 + 2 bytes into the row.
  const size_t offset = csv.size() + 12;
  csv += Body({Valid({{kSurname,
                       "Ab\xFF"
                       "cd"}})});
  RunResult r = Run(csv, "utf-8");
  REQUIRE_FALSE(r.status.ok());
  CHECK(r.status.code() == Code::kInvalidArgument);
  CHECK(r.status.message() == "byte offset " + std::to_string(offset) + " is not valid UTF-8");

  // A truncated sequence at the very end of the file.
  RunResult t = Run(Csv(kHeaders, {Valid()}) + "\xD2");
  REQUIRE_FALSE(t.status.ok());
  CHECK_THAT(t.status.message(), Catch::Contains("byte offset"));
  // Invalid bytes in the header.
  RunResult h = Run("\xC0\xAF" + Csv(kHeaders, {Valid()}));
  REQUIRE_FALSE(h.status.ok());
  CHECK(h.status.message() == "byte offset 0 is not valid UTF-8");
}

TEST_CASE("tjk-1 accepts only UTF-8", "[tjk1]") {
  for (const char* name : {"windows-1251", "koi8-r", "latin1", "utf-16"}) {
    RunResult r = Run(ReadFixture("tjk-1.csv"), name);
    REQUIRE_FALSE(r.status.ok());
    CHECK(r.status.code() == Code::kInvalidArgument);
    CHECK_THAT(r.status.message(), Catch::Contains(name));
    CHECK(r.sink.persons.empty());
  }
  RunResult r = Run(ReadFixture("tjk-1.csv"), std::string("bad\x01name"));
  REQUIRE_FALSE(r.status.ok());
  CHECK_THAT(r.status.message(), Catch::StartsWith("the charset is not accepted"));
  CHECK(Run(ReadFixture("tjk-1.csv"), "UTF-8").status.ok());
}

TEST_CASE("tjk-1 empty file is an error; header only is zero rows", "[tjk1]") {
  for (const char* empty : {"", "\xEF\xBB\xBF", "\r\n\r\n", "\n"}) {
    RunResult r = Run(empty);
    REQUIRE_FALSE(r.status.ok());
    CHECK(r.status.code() == Code::kInvalidArgument);
    CHECK(r.status.message() == "file is empty (no header)");
  }
  RunResult h = Run("\xEF\xBB\xBF" + Csv(kHeaders, {}));
  CHECK(h.status.ok());
  CHECK(h.sink.persons.empty());
  CHECK(h.sink.errors.empty());
}

TEST_CASE("tjk-1 a row with the wrong number of fields is a row error", "[tjk1]") {
  std::string csv = Csv(kHeaders, {Valid()});
  csv += "10-123456,only,three\r\n";
  csv += Body({Valid()});
  RunResult r = Run(csv);
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.errors.size() == 1);
  CHECK(r.sink.errors[0].row == 2);
  CHECK(r.sink.errors[0].kind == "bad_row");
  CHECK(r.sink.errors[0].field.empty());
  CHECK(r.sink.errors[0].reason.find("10-123456") == std::string::npos);
  REQUIRE(r.sink.persons.size() == 2);
  CHECK(r.sink.persons[1].row == 3);
}

TEST_CASE("tjk-1 case-file number shape", "[tjk1]") {
  for (const char* bad : {"", "10123456", "10-12345", "10-1234567", "1-1234567", "100-12345",
                          "10_123456", "1O-123456", "10-12345X", "10--23456", "10 123456",
                          "１0-123456", "10-123456-1", "AB-123456"}) {
    INFO(bad);
    CHECK(KindOf(Valid({{kCase, bad}})) == "bad_id_format");
  }
  // Surrounding white space is not part of the number.
  CHECK(PersonOf(Valid({{kCase, " 10-123456\t"}})).person_id == "10-123456");
  RunResult r = Run(Csv(kHeaders, {Valid({{kCase, "10-12345"}})}));
  REQUIRE(r.sink.errors.size() == 1);
  CHECK(r.sink.errors[0].field == "Рақами парванда");
  CHECK(r.sink.errors[0].reason.find("10-12345") == std::string::npos);
}

TEST_CASE("tjk-1 case-file year must match the registration year", "[tjk1]") {
  CHECK(KindOf(Valid({{kCase, "11-123456"}})) == "case_year_mismatch");
  CHECK(KindOf(Valid({{kCase, "09-123456"}})) == "case_year_mismatch");
  CHECK(KindOf(Valid({{kCase, "99-123456"}, {kReg, "31/12/1999"}})) == "");
  CHECK(KindOf(Valid({{kCase, "00-123456"}, {kReg, "01/01/2000"}})) == "");
  CHECK(KindOf(Valid({{kCase, "00-123456"}, {kReg, "01/01/1999"}})) == "case_year_mismatch");
  RunResult r = Run(Csv(kHeaders, {Valid({{kCase, "11-123456"}})}));
  REQUIRE(r.sink.errors.size() == 1);
  CHECK(r.sink.errors[0].field == "Рақами парванда");
  // A registration that is not a date is reported as such, not as a mismatch.
  CHECK(KindOf(Valid({{kCase, "11-123456"}, {kReg, "2010-02-01"}})) == "bad_date");
}

TEST_CASE("tjk-1 names are required, patronymic is not", "[tjk1]") {
  CHECK(KindOf(Valid({{kSurname, ""}})) == "missing_name");
  CHECK(KindOf(Valid({{kSurname, " \xC2\xA0 "}})) == "missing_name");
  CHECK(KindOf(Valid({{kGiven, ""}})) == "missing_name");
  CHECK(KindOf(Valid({{kGiven, "\t"}})) == "missing_name");
  CHECK(KindOf(Valid({{kPatronymic, ""}})) == "");
  RunResult r = Run(Csv(kHeaders, {Valid({{kGiven, ""}})}));
  REQUIRE(r.sink.errors.size() == 1);
  CHECK(r.sink.errors[0].field == "Ном");
}

TEST_CASE("tjk-1 sex values", "[tjk1]") {
  CHECK(PersonOf(Valid({{kSex, "мард"}})).sex == "M");
  CHECK(PersonOf(Valid({{kSex, " Мард "}})).sex == "M");
  CHECK(PersonOf(Valid({{kSex, "МАРД"}})).sex == "M");
  CHECK(PersonOf(Valid({{kSex, "зан"}})).sex == "F");
  CHECK(PersonOf(Valid({{kSex, "Зан"}})).sex == "F");
  CHECK(KindOf(Valid({{kSex, "M"}})) == "unknown_sex");
  CHECK(KindOf(Valid({{kSex, "м"}})) == "unknown_sex");
  CHECK(KindOf(Valid({{kSex, ""}})) == "unknown_sex");
}

TEST_CASE("tjk-1 citizenship by Tajik country name", "[tjk1]") {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"Афғонистон", "AFG"},   {"Эрон", "IRN"},       {"Покистон", "PAK"},    {"Сурия", "SYR"},
      {"Ироқ", "IRQ"},         {"Ӯзбекистон", "UZB"}, {"Қирғизистон", "KGZ"}, {"Қазоқистон", "KAZ"},
      {"Туркманистон", "TKM"}, {"Русия", "RUS"},      {"Украина", "UKR"},     {"Чин", "CHN"},
      {"Ҳиндустон", "IND"},    {"Туркия", "TUR"},     {"Озарбойҷон", "AZE"},  {"Арманистон", "ARM"},
      {"Гурҷистон", "GEO"},    {"Беларус", "BLR"},    {"Молдова", "MDA"},     {"Бангладеш", "BGD"},
      {"Яман", "YEM"},         {"Сомалӣ", "SOM"},     {"бешаҳрванд", "XXA"},  {"номаълум", "UNK"},
  };
  for (const auto& [name, code] : table) {
    INFO(name);
    CHECK(CodeLists::Get().CountryByAlpha3(code) != nullptr);
    CHECK(PersonOf(Valid({{kCountry, name}})).coo == code);
    CHECK(PersonOf(Valid({{kCountry, Nfd(name)}})).coo == code);
  }
  CHECK(PersonOf(Valid({{kCountry, "  АФҒОНИСТОН "}})).coo == "AFG");
  CHECK(PersonOf(Valid({{kCountry, "Бешаҳрванд"}})).coo == "XXA");
  CHECK(PersonOf(Valid({{kCountry, "НОМАЪЛУМ"}})).coo == "UNK");
  // ISO codes, English names and unlisted countries are not in the profile.
  for (const char* bad : {"AFG", "Afghanistan", "XXA", "UNK", "Франсия", "-", ""}) {
    INFO(bad);
    CHECK(KindOf(Valid({{kCountry, bad}})) == "unknown_country");
  }
  // "Узбекистон" with a plain у is a different word from "Ӯзбекистон".
  CHECK(KindOf(Valid({{kCountry, "Узбекистон"}})) == "unknown_country");
}

TEST_CASE("tjk-1 status texts", "[tjk1]") {
  CHECK(PersonOf(Valid({{kStatus, "гуреза"}})).pop_type == "REF");
  CHECK(PersonOf(Valid({{kStatus, "ГУРЕЗА"}})).pop_type == "REF");
  CHECK(PersonOf(Valid({{kStatus, "паноҳҷӯ"}})).pop_type == "ASY");
  CHECK(PersonOf(Valid({{kStatus, "шахси бешаҳрванд"}})).pop_type == "STA");
  CHECK(PersonOf(Valid({{kStatus, " Шахси  бешаҳрванд"}})).pop_type == "STA");
  CHECK(PersonOf(Valid({{kStatus, "муҳоҷири меҳнатӣ"}})).pop_type == "MIG");
  CHECK(KindOf(Valid({{kStatus, "бешаҳрванд"}})) == "unknown_status");
  CHECK(KindOf(Valid({{kStatus, "REF"}})) == "unknown_status");
  CHECK(KindOf(Valid({{kStatus, "сайёҳ"}})) == "unknown_status");
  CHECK(KindOf(Valid({{kStatus, ""}})) == "unknown_status");
}

TEST_CASE("tjk-1 regions and the city prefix", "[tjk1]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ш. Душанбе", "TJ-DU"},    {"ш.Душанбе", "TJ-DU"},
      {"ш.  Душанбе", "TJ-DU"},   {"ш Душанбе", "TJ-DU"},
      {"Ш. ДУШАНБЕ", "TJ-DU"},    {"шаҳри Душанбе", "TJ-DU"},
      {" ш. Душанбе ", "TJ-DU"},  {"вилояти Суғд", "TJ-SU"},
      {"Вилояти  Суғд", "TJ-SU"}, {"вилояти Хатлон", "TJ-KT"},
      {"ВМКБ", "TJ-GB"},          {"вмкб", "TJ-GB"},
      {"НТҶ", "TJ-RA"},           {"нтҷ", "TJ-RA"},
  };
  for (const auto& [name, code] : cases) {
    INFO(name);
    CHECK(PersonOf(Valid({{kRegion, name}})).region == code);
    CHECK(PersonOf(Valid({{kRegion, Nfd(name)}})).region == code);
    const Region* region = CodeLists::Get().RegionByCode(code);
    REQUIRE(region != nullptr);
    CHECK(region->country == "TJK");
  }
  for (const char* bad : {"Душанбе", "ш.", "Суғд", "вилояти Бадахшон", "TJ-DU", "", "г. Душанбе"}) {
    INFO(bad);
    CHECK(KindOf(Valid({{kRegion, bad}})) == "unknown_region");
  }
}

TEST_CASE("tjk-1 date rules", "[tjk1]") {
  CHECK(KindOf(Valid({{kBirth, "1990-01-01"}})) == "bad_date");
  CHECK(KindOf(Valid({{kBirth, "01.01.1990"}})) == "bad_date");
  CHECK(KindOf(Valid({{kBirth, ""}})) == "bad_date");
  CHECK(KindOf(Valid({{kBirth, "1/1/1990"}})) == "bad_date");
  CHECK(KindOf(Valid({{kBirth, "01/00/1990"}})) == "bad_date");
  CHECK(KindOf(Valid({{kBirth, "29/02/1990"}})) == "bad_date");
  CHECK(KindOf(Valid({{kBirth, "00/13/1990"}})) == "bad_date");
  CHECK(KindOf(Valid({{kReg, "31/02/2010"}})) == "bad_date");
  CHECK(KindOf(Valid({{kReg, "00/02/2010"}})) == "bad_date");
  CHECK(KindOf(Valid({{kReg, "32/01/2010"}})) == "bad_date");
  CHECK(KindOf(Valid({{kReg, ""}})) == "bad_date");
  CHECK(KindOf(Valid({{kUntil, "32/01/2016"}})) == "bad_date");
  CHECK(KindOf(Valid({{kUntil, "00/00/2016"}})) == "bad_date");
  CHECK(KindOf(Valid({{kUntil, "2016-01-01"}})) == "bad_date");
  // Registration against birth.
  CHECK(KindOf(Valid({{kBirth, "02/02/2010"}})) == "reg_before_birth");
  CHECK(KindOf(Valid({{kBirth, "01/02/2010"}})) == "");
  // A partial birth date: only a registration before its earliest day fails.
  CHECK(KindOf(Valid({{kBirth, "00/00/2010"}})) == "");
  CHECK(KindOf(Valid({{kBirth, "00/02/2010"}})) == "");
  CHECK(KindOf(Valid({{kBirth, "00/03/2010"}})) == "reg_before_birth");
  CHECK(KindOf(Valid({{kBirth, "00/00/2011"}, {kCase, "10-123456"}})) == "reg_before_birth");
  CHECK(KindOf(Valid({{kBirth, "00/00/0000"}})) == "");
  // Registration after the reference date is left to the stock rule.
  PersonRecord late = PersonOf(Valid({{kCase, "17-123456"}, {kReg, "05/01/2017"}}));
  CHECK_FALSE(InStock(late, kRef));
  // Validity date against registration.
  CHECK(KindOf(Valid({{kUntil, "31/01/2010"}})) == "until_before_reg");
  CHECK(KindOf(Valid({{kUntil, "01/02/2010"}})) == "");
  PersonRecord expired = PersonOf(Valid({{kUntil, "30/12/2016"}}));
  CHECK_FALSE(InStock(expired, kRef));
  CHECK(InStock(PersonOf(Valid({{kUntil, "31/12/2016"}})), kRef));
}

TEST_CASE("tjk-1 birth after the reference date", "[tjk1]") {
  const Cells baby = {{kCase, "17-000001"}, {kBirth, "01/01/2017"}, {kReg, "01/01/2017"}};
  CHECK(KindOf(Valid(baby)) == "future_birth");
  Cells early = Valid(baby);
  early[kBirth] = "00/00/2016";
  // Born in 2016 with the month unknown: 1 July, age 0.
  CHECK(PersonOf(early).age == "0-4");
  early[kBirth] = "00/12/2016";
  CHECK(PersonOf(early).age == "0-4");
  early[kBirth] = "00/00/2017";
  CHECK(KindOf(early) == "future_birth");
  early[kBirth] = "00/01/2017";
  CHECK(KindOf(early) == "future_birth");
  // With a later reference date the same row is fine.
  RunResult r = Run(Csv(kHeaders, {Valid(baby)}), "", Date{2017, 1, 1});
  REQUIRE(r.status.ok());
  CHECK(r.sink.persons.size() == 1);
}

TEST_CASE("tjk-1 age bands at the reference date", "[tjk1]") {
  auto age_of = [](const std::string& birth) {
    return PersonOf(Valid({{kCase, "16-000001"}, {kBirth, birth}, {kReg, "31/12/2016"}})).age;
  };
  CHECK(age_of("31/12/2011") == "5-11");
  CHECK(age_of("01/01/2012") == "0-4");
  CHECK(age_of("31/12/1998") == "18-59");
  CHECK(age_of("01/01/1999") == "12-17");
  CHECK(age_of("31/12/1956") == "60+");
  CHECK(age_of("01/01/1957") == "18-59");
  // Unknown month: 1 July; unknown day: the 15th.
  CHECK(age_of("00/00/1999") == "12-17");
  CHECK(age_of("00/00/1998") == "18-59");
  CHECK(age_of("00/12/1998") == "18-59");
  CHECK(age_of("00/00/0000") == "unknown");
}

TEST_CASE("tjk-1 first failing rule is the one reported", "[tjk1]") {
  RunResult r = Run(Csv(
      kHeaders, {Valid({{kSurname, ""}, {kRegion, "Нарния"}, {kStatus, "сайёҳ"}}),
                 Valid({{kCase, "x"}, {kGiven, ""}}),
                 Valid({{kBirth, "01/01/2020"}, {kCase, "11-123456"}, {kUntil, "01/01/2000"}}),
                 Valid({{kCase, "11-123456"}, {kBirth, "01/01/2011"}, {kUntil, "01/01/2000"}})}));
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.errors.size() == 4);
  CHECK(r.sink.errors[0].kind == "missing_name");
  CHECK(r.sink.errors[0].field == "Насаб");
  CHECK(r.sink.errors[0].row == 1);
  CHECK(r.sink.errors[1].kind == "bad_id_format");
  CHECK(r.sink.errors[2].kind == "future_birth");
  CHECK(r.sink.errors[2].field == "Санаи таваллуд");
  CHECK(r.sink.errors[3].kind == "case_year_mismatch");
  CHECK(r.sink.errors[3].row == 4);
}

TEST_CASE("tjk-1 errors name the canonical column and keep values out", "[tjk1]") {
  RunResult r = Run(Csv(kHeaders, {Valid({{kRegion, "Нарния"}}), Valid({{kUntil, "01/01/2000"}}),
                                   Valid({{kCountry, "Нарния"}}), Valid({{kReg, "99/99/2010"}})}));
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.errors.size() == 4);
  CHECK(r.sink.errors[0].field == "Минтақа");
  CHECK(r.sink.errors[1].field == "Мӯҳлати эътибор");
  CHECK(r.sink.errors[2].field == "Шаҳрвандӣ");
  CHECK(r.sink.errors[3].field == "Санаи бақайдгирӣ");
  for (const RowError& e : r.sink.errors) {
    CHECK(e.reason.find("Нарния") == std::string::npos);
    CHECK(e.reason.find("10-123456") == std::string::npos);
    CHECK(e.reason.find("01/01/1990") == std::string::npos);
    CHECK(e.reason.find("Раҳимов") == std::string::npos);
  }
}

TEST_CASE("tjk-1 duplicate case numbers are left to the pipeline", "[tjk1]") {
  RunResult r = Run(Csv(kHeaders, {Valid(), Valid()}));
  REQUIRE(r.status.ok());
  CHECK(r.sink.errors.empty());
  REQUIRE(r.sink.persons.size() == 2);
  CHECK(r.sink.persons[0].person.person_id == r.sink.persons[1].person.person_id);
}

TEST_CASE("tjk-1 a failing sink stops the run with its status", "[tjk1]") {
  std::unique_ptr<Adapter> adapter = tjk1::NewAdapter();
  StringSource source(ReadFixture("tjk-1.csv"));
  TestSink sink;
  sink.fail_after_persons = 3;
  Status s = adapter->Run(source, AdapterContext{"TJK", kRef, "utf-8"}, sink);
  CHECK(s.code() == Code::kInternal);
  CHECK(sink.persons.size() == 4);
}

TEST_CASE("tjk-1 many rows stream through", "[tjk1]") {
  std::string csv = Csv(kHeaders, {});
  const std::string row = Body({Valid()});
  for (int i = 0; i < 20000; ++i) csv += row;
  RunResult r = Run(csv);
  REQUIRE(r.status.ok());
  CHECK(r.sink.persons.size() == 20000);
  CHECK(r.sink.persons.back().row == 20000);
}

}  // namespace
}  // namespace gw
