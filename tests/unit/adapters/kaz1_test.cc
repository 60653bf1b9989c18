#include <cctype>
#include <cstdio>
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

#include "adapters/kaz-1/iin.h"
#include "adapters/kaz-1/kaz1_adapter.h"
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

const Date kRef{2015, 6, 30};

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

RunResult Run(const std::string& data, const std::string& charset = "", Date ref = kRef) {
  const AdapterInfo* info = AdapterRegistry::Global().Find("kaz-1");
  REQUIRE(info != nullptr);
  std::unique_ptr<Adapter> adapter = info->create();
  StringSource source(data);
  RunResult r;
  r.status = adapter->Run(source, AdapterContext{"KAZ", ref, charset}, r.sink);
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

void CheckAgainstTruth(const RunResult& r, const json& truth) {
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
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
    CHECK(e.person.id_field == "ЖСН/ИИН");
    CHECK(e.person.person_id.size() == 12);
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

json Truth(const std::string& name) { return json::parse(ReadFixture(name)); }

TEST_CASE("kaz-1 is registered", "[kaz1]") {
  const AdapterInfo* info = AdapterRegistry::Global().Find("kaz-1");
  REQUIRE(info != nullptr);
  CHECK(info->country == "KAZ");
  CHECK(info->charsets == std::vector<std::string>{"utf-8", "rk1048"});
  CHECK(info->media_type == "text/csv");
}

TEST_CASE("kaz-1 sample (UTF-8) matches its truth", "[kaz1]") {
  CheckAgainstTruth(Run(ReadFixture("kaz-1.csv"), "utf-8"), Truth("kaz-1.truth.json"));
}

TEST_CASE("kaz-1 sample with no charset defaults to UTF-8", "[kaz1]") {
  CheckAgainstTruth(Run(ReadFixture("kaz-1.csv"), ""), Truth("kaz-1.truth.json"));
}

TEST_CASE("kaz-1 sample (RK1048) matches its truth", "[kaz1]") {
  CheckAgainstTruth(Run(ReadFixture("kaz-1.rk1048.csv"), "rk1048"),
                    Truth("kaz-1.rk1048.truth.json"));
  CheckAgainstTruth(Run(ReadFixture("kaz-1.rk1048.csv"), "kz-1048"),
                    Truth("kaz-1.rk1048.truth.json"));
}

TEST_CASE("kaz-1 sample in NFD matches the truth", "[kaz1]") {
  const std::string nfc = ReadFixture("kaz-1.csv");
  UErrorCode ec = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(ec);
  REQUIRE(U_SUCCESS(ec));
  const icu::UnicodeString decomposed = nfd->normalize(icu::UnicodeString::fromUTF8(nfc), ec);
  REQUIRE(U_SUCCESS(ec));
  std::string text;
  decomposed.toUTF8String(text);
  REQUIRE(text != nfc);  // й, ё and friends did decompose
  CheckAgainstTruth(Run(text, "utf-8"), Truth("kaz-1.truth.json"));
}

TEST_CASE("kaz-1 sample with LF line ends matches the truth", "[kaz1]") {
  std::string text = ReadFixture("kaz-1.csv");
  std::string lf;
  for (char c : text)
    if (c != '\r') lf.push_back(c);
  REQUIRE(lf.size() < text.size());
  CheckAgainstTruth(Run(lf, "utf-8"), Truth("kaz-1.truth.json"));
}

TEST_CASE("kaz-1 row errors never carry identifying values", "[kaz1]") {
  const std::string text = ReadFixture("kaz-1.csv");
  RunResult r = Run(text, "utf-8");
  REQUIRE(r.status.ok());
  REQUIRE_FALSE(r.sink.errors.empty());
  // Every 12-digit run, every DD.MM.YYYY date and every name-like cell.
  std::set<std::string> secrets;
  for (size_t i = 0; i + 12 <= text.size(); ++i) {
    bool digits = true;
    for (size_t k = 0; k < 12 && digits; ++k) digits = text[i + k] >= '0' && text[i + k] <= '9';
    if (digits) secrets.insert(text.substr(i, 12));
  }
  for (size_t i = 0; i + 10 <= text.size(); ++i) {
    if (text[i + 2] == '.' && text[i + 5] == '.' &&
        std::isdigit(static_cast<unsigned char>(text[i])))
      secrets.insert(text.substr(i, 10));
  }
  for (const char* name : {"Каримов", "Юсупова", "Шарипов", "Зарина", "Ахмадович", "Каримовна"})
    secrets.insert(name);
  REQUIRE(secrets.size() > 100);
  for (const RowError& e : r.sink.errors) {
    for (const std::string& s : secrets) {
      CHECK(e.reason.find(s) == std::string::npos);
      CHECK(e.field.find(s) == std::string::npos);
    }
  }
}

// --- Small hand-made files ----------------------------------------------------

const std::vector<std::string> kHeaders = {
    "ЖСН/ИИН",
    "Тегі/Фамилия",
    "Аты/Имя",
    "Әкесінің аты/Отчество",
    "Туған күні/Дата рождения",
    "Жынысы/Пол",
    "Азаматтығы/Гражданство",
    "Мәртебесі/Статус",
    "Облыс/Область",
    "Тіркелген күні/Дата регистрации",
    "Мәртебе мерзімі/Срок действия статуса",
};

using Cells = std::map<std::string, std::string>;

// A valid row (1990-01-01, male); tests override cells.
Cells Valid(const Cells& overrides = {}) {
  Cells c = {
      {"ЖСН/ИИН", "900101300007"},
      {"Тегі/Фамилия", "Сейтқали"},
      {"Аты/Имя", "Ерлан"},
      {"Әкесінің аты/Отчество", ""},
      {"Туған күні/Дата рождения", "01.01.1990"},
      {"Жынысы/Пол", "М"},
      {"Азаматтығы/Гражданство", "AFG"},
      {"Мәртебесі/Статус", "беженец"},
      {"Облыс/Область", "Абайская область"},
      {"Тіркелген күні/Дата регистрации", "01.02.2010"},
      {"Мәртебе мерзімі/Срок действия статуса", ""},
  };
  for (const auto& [k, v] : overrides) c[k] = v;
  return c;
}

std::string Quote(const std::string& v) {
  if (v.find_first_of(";\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Csv(const std::vector<std::string>& headers, const std::vector<Cells>& rows) {
  std::string out;
  for (size_t i = 0; i < headers.size(); ++i) out += (i ? ";" : "") + Quote(headers[i]);
  out += "\r\n";
  for (const Cells& row : rows) {
    for (size_t i = 0; i < headers.size(); ++i) {
      auto it = row.find(headers[i]);
      out += (i ? ";" : "") + Quote(it == row.end() ? "" : it->second);
    }
    out += "\r\n";
  }
  return out;
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

// A valid IIN for the given birth date, century/sex digit and serial.
std::string MakeIin(const std::string& yymmdd, char c, int serial = 1) {
  for (;; ++serial) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04d", serial % 10000);
    const std::string first11 = yymmdd + c + buf;
    const int check = kaz1::IinCheckDigit(first11);
    if (check >= 0) return first11 + static_cast<char>('0' + check);
  }
}

TEST_CASE("IIN vectors from FORMATS.md", "[kaz1][iin]") {
  kaz1::IinInfo info;
  REQUIRE(kaz1::ParseIin("061211600012", &info) == kaz1::IinFault::kNone);
  CHECK(info.birth == Date{2006, 12, 11});
  CHECK(info.sex == 'F');
  REQUIRE(kaz1::ParseIin("900101300007", &info) == kaz1::IinFault::kNone);
  CHECK(info.birth == Date{1990, 1, 1});
  CHECK(info.sex == 'M');
  CHECK(kaz1::ParseIin("821214240092", &info) == kaz1::IinFault::kChecksum);
  // r is 10 under both weightings: no check digit can be valid.
  CHECK(kaz1::IinCheckDigit("82121424009") == -1);
}

TEST_CASE("IIN format, century and date faults", "[kaz1][iin]") {
  CHECK(kaz1::ParseIin("", nullptr) == kaz1::IinFault::kFormat);
  CHECK(kaz1::ParseIin("90010130000", nullptr) == kaz1::IinFault::kFormat);
  CHECK(kaz1::ParseIin("9001013000071", nullptr) == kaz1::IinFault::kFormat);
  CHECK(kaz1::ParseIin("90010130000X", nullptr) == kaz1::IinFault::kFormat);
  CHECK(kaz1::ParseIin("900101300008", nullptr) == kaz1::IinFault::kChecksum);
  for (char c : {'0', '7', '8', '9'}) {
    CHECK(kaz1::ParseIin(MakeIin("900101", c), nullptr) == kaz1::IinFault::kCentury);
  }
  CHECK(kaz1::ParseIin(MakeIin("901301", '3'), nullptr) == kaz1::IinFault::kDate);
  CHECK(kaz1::ParseIin(MakeIin("010229", '5'), nullptr) == kaz1::IinFault::kDate);  // 2001 not leap
  kaz1::IinInfo info;
  REQUIRE(kaz1::ParseIin(MakeIin("990101", '2'), &info) == kaz1::IinFault::kNone);
  CHECK(info.birth == Date{1899, 1, 1});
  CHECK(info.sex == 'F');
  REQUIRE(kaz1::ParseIin(MakeIin("000229", '5'), &info) == kaz1::IinFault::kNone);
  CHECK(info.birth == Date{2000, 2, 29});
  CHECK(info.sex == 'M');
}

TEST_CASE("kaz-1 maps a valid row to the shared schema", "[kaz1]") {
  PersonRecord p = PersonOf(Valid({{"Мәртебе мерзімі/Срок действия статуса", "31.01.2016"}}));
  CHECK(p.person_id == "900101300007");
  CHECK(p.id_field == "ЖСН/ИИН");
  CHECK(p.pop_type == "REF");
  CHECK(p.coo == "AFG");
  CHECK(p.sex == "M");
  CHECK(p.age == "18-59");
  CHECK(p.region == "KZ-10");
  CHECK(p.registered == Date{2010, 2, 1});
  REQUIRE(p.valid_until.has_value());
  CHECK(*p.valid_until == Date{2016, 1, 31});
  CHECK_FALSE(PersonOf(Valid()).valid_until.has_value());
}

TEST_CASE("kaz-1 columns may come in any order; unknown ones are ignored", "[kaz1]") {
  std::vector<std::string> headers(kHeaders.rbegin(), kHeaders.rend());
  headers.insert(headers.begin() + 3, "Примечание");
  headers.push_back("Extra");
  Cells row = Valid({{"Примечание", "заметка; \"важно\""}, {"Extra", "x"}});
  RunResult r = Run(Csv(headers, {row, row}));
  REQUIRE(r.status.ok());
  CHECK(r.sink.errors.empty());
  REQUIRE(r.sink.persons.size() == 2);
  CHECK(r.sink.persons[1].row == 2);
  CHECK(r.sink.persons[0].person.region == "KZ-10");
}

TEST_CASE("kaz-1 headers match after case folding and trimming", "[kaz1]") {
  std::vector<std::string> headers;
  for (const std::string& h : kHeaders) {
    icu::UnicodeString u = icu::UnicodeString::fromUTF8(h);
    u.toUpper();
    std::string upper;
    u.toUTF8String(upper);
    headers.push_back("  " + upper + " ");
  }
  std::string csv = Csv(headers, {});
  csv += Csv(kHeaders, {Valid()}).substr(Csv(kHeaders, {}).size());
  RunResult r = Run(csv);
  REQUIRE(r.status.ok());
  CHECK(r.sink.persons.size() == 1);
}

TEST_CASE("kaz-1 without the patronymic column is fine", "[kaz1]") {
  std::vector<std::string> headers = kHeaders;
  headers.erase(headers.begin() + 3);
  RunResult r = Run(Csv(headers, {Valid()}));
  REQUIRE(r.status.ok());
  CHECK(r.sink.persons.size() == 1);
}

TEST_CASE("kaz-1 missing required column rejects the file naming it", "[kaz1]") {
  for (size_t drop = 0; drop < kHeaders.size(); ++drop) {
    if (kHeaders[drop] == "Әкесінің аты/Отчество") continue;
    std::vector<std::string> headers = kHeaders;
    headers.erase(headers.begin() + static_cast<long>(drop));
    RunResult r = Run(Csv(headers, {Valid()}));
    REQUIRE_FALSE(r.status.ok());
    CHECK(r.status.code() == Code::kInvalidArgument);
    CHECK(r.status.message() ==
          "missing required column \"" + kHeaders[drop] + "\" in header (line 1)");
    CHECK(r.sink.persons.empty());
  }
}

TEST_CASE("kaz-1 duplicated column rejects the file", "[kaz1]") {
  std::vector<std::string> headers = kHeaders;
  headers.push_back("облыс/область");
  RunResult r = Run(Csv(headers, {Valid()}));
  REQUIRE_FALSE(r.status.ok());
  CHECK_THAT(r.status.message(), Catch::Contains("Облыс/Область") && Catch::Contains("twice"));
}

TEST_CASE("kaz-1 quoted fields with ';', '\"\"' and line breaks", "[kaz1]") {
  Cells tricky = Valid({{"Тегі/Фамилия", "Ахмади; \"Старший\"\r\nвторая строка"},
                        {"Әкесінің аты/Отчество", "a\nb"}});
  Cells second = Valid({{"ЖСН/ИИН", "061211600012"},
                        {"Туған күні/Дата рождения", "11.12.2006"},
                        {"Жынысы/Пол", "Ж"}});
  RunResult r = Run(Csv(kHeaders, {tricky, second}));
  REQUIRE(r.status.ok());
  CHECK(r.sink.errors.empty());
  REQUIRE(r.sink.persons.size() == 2);
  CHECK(r.sink.persons[0].row == 1);
  CHECK(r.sink.persons[1].row == 2);  // records, not physical lines
  CHECK(r.sink.persons[1].person.sex == "F");
  CHECK(r.sink.persons[1].person.age == "5-11");
}

TEST_CASE("kaz-1 malformed quoting rejects the file with its line", "[kaz1]") {
  std::string csv = Csv(kHeaders, {Valid()});
  csv += "\"900101300007\"x;a;b;c;d;e;f;g;h;i;j\r\n";
  RunResult r = Run(csv);
  REQUIRE_FALSE(r.status.ok());
  CHECK_THAT(r.status.message(), Catch::Contains("line 3"));
}

TEST_CASE("kaz-1 invalid UTF-8 rejects the file with the byte offset", "[kaz1]") {
  std::string csv = Csv(kHeaders, {Valid()});
  // "900101300007;Ab\xFF": the bad byte is 12 + 1 + 2 bytes into the row.
  const size_t offset = csv.size() + 15;
  csv += Csv(kHeaders, {Valid({{"Тегі/Фамилия",
                                "Ab\xFF"
                                "cd"}})})
             .substr(Csv(kHeaders, {}).size());
  RunResult r = Run(csv, "utf-8");
  REQUIRE_FALSE(r.status.ok());
  CHECK(r.status.code() == Code::kInvalidArgument);
  CHECK(r.status.message() == "byte offset " + std::to_string(offset) + " is not valid UTF-8");
}

TEST_CASE("kaz-1 RK1048 bytes undefined in the code page reject the file", "[kaz1]") {
  std::string data = ReadFixture("kaz-1.rk1048.csv");
  data[200] = '\x98';
  RunResult r = Run(data, "rk1048");
  REQUIRE_FALSE(r.status.ok());
  CHECK(r.status.message() == "byte offset 200 is not valid RK1048");
}

TEST_CASE("kaz-1 UTF-8 file declared as RK1048 is rejected", "[kaz1]") {
  RunResult r = Run(ReadFixture("kaz-1.csv"), "rk1048");
  CHECK_FALSE(r.status.ok());
}

TEST_CASE("kaz-1 wrong charset name is refused", "[kaz1]") {
  for (const char* name : {"klingon", "windows-1251", "utf-8//IGNORE"}) {
    RunResult r = Run(ReadFixture("kaz-1.csv"), name);
    REQUIRE_FALSE(r.status.ok());
    CHECK(r.status.code() == Code::kInvalidArgument);
    CHECK_THAT(r.status.message(), Catch::Contains(name));
    CHECK(r.sink.persons.empty());
  }
  CHECK(Run(ReadFixture("kaz-1.csv"), "UTF-8").status.ok());
  CHECK(Run(ReadFixture("kaz-1.rk1048.csv"), "KZ1048").status.ok());
}

TEST_CASE("kaz-1 empty file is an error; header only is zero rows", "[kaz1]") {
  for (const char* empty : {"", "\xEF\xBB\xBF", "\r\n\r\n"}) {
    RunResult r = Run(empty);
    REQUIRE_FALSE(r.status.ok());
    CHECK(r.status.message() == "file is empty (no header)");
  }
  RunResult h = Run("\xEF\xBB\xBF" + Csv(kHeaders, {}));
  CHECK(h.status.ok());
  CHECK(h.sink.persons.empty());
  CHECK(h.sink.errors.empty());
}

TEST_CASE("kaz-1 a row with the wrong number of fields is a row error", "[kaz1]") {
  std::string csv = Csv(kHeaders, {Valid()});
  csv += "900101300007;only;three\r\n";
  csv += Csv(kHeaders, {Valid()}).substr(Csv(kHeaders, {}).size());
  RunResult r = Run(csv);
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.errors.size() == 1);
  CHECK(r.sink.errors[0].row == 2);
  CHECK(r.sink.errors[0].kind == "bad_row");
  CHECK(r.sink.errors[0].field.empty());
  CHECK(r.sink.persons.size() == 2);
  CHECK(r.sink.persons[1].row == 3);
}

TEST_CASE("kaz-1 IIN rules", "[kaz1]") {
  CHECK(KindOf(Valid({{"ЖСН/ИИН", ""}})) == "bad_id_format");
  CHECK(KindOf(Valid({{"ЖСН/ИИН", "90010130000"}})) == "bad_id_format");
  CHECK(KindOf(Valid({{"ЖСН/ИИН", "9001O1300007"}})) == "bad_id_format");
  CHECK(KindOf(Valid({{"ЖСН/ИИН", "900101300008"}})) == "bad_checksum");
  CHECK(KindOf(Valid({{"ЖСН/ИИН", "821214240092"}})) == "bad_checksum");
  CHECK(KindOf(Valid({{"ЖСН/ИИН", MakeIin("900101", '7')}})) == "bad_id_format");
  CHECK(KindOf(Valid({{"ЖСН/ИИН", MakeIin("901301", '3')}})) == "bad_id_format");
  CHECK(KindOf(Valid({{"ЖСН/ИИН", " 900101300007 "}})) == "");
  CHECK(PersonOf(Valid({{"ЖСН/ИИН", " 900101300007 "}})).person_id == "900101300007");
  // Birth date agreement.
  CHECK(KindOf(Valid({{"Туған күні/Дата рождения", "02.01.1990"}})) == "id_birth_mismatch");
  CHECK(KindOf(Valid({{"Туған күні/Дата рождения", "01.01.1890"}})) == "id_birth_mismatch");
  CHECK(KindOf(Valid({{"Туған күні/Дата рождения", "00.01.1990"}})) == "");
  CHECK(KindOf(Valid({{"Туған күні/Дата рождения", "00.00.1990"}})) == "");
  CHECK(KindOf(Valid({{"Туған күні/Дата рождения", "00.02.1990"}})) == "id_birth_mismatch");
  CHECK(KindOf(Valid({{"Туған күні/Дата рождения", "00.00.1991"}})) == "id_birth_mismatch");
  CHECK(KindOf(Valid({{"Туған күні/Дата рождения", "00.00.0000"}})) == "");
  // Sex agreement.
  CHECK(KindOf(Valid({{"Жынысы/Пол", "Ж"}})) == "id_sex_mismatch");
  CHECK(KindOf(Valid({{"Жынысы/Пол", "Ә"}})) == "id_sex_mismatch");
}

TEST_CASE("kaz-1 names are required", "[kaz1]") {
  CHECK(KindOf(Valid({{"Тегі/Фамилия", ""}})) == "missing_name");
  CHECK(KindOf(Valid({{"Тегі/Фамилия", " \xC2\xA0 "}})) == "missing_name");
  CHECK(KindOf(Valid({{"Аты/Имя", ""}})) == "missing_name");
  CHECK(KindOf(Valid({{"Әкесінің аты/Отчество", ""}})) == "");
}

TEST_CASE("kaz-1 sex letters in both languages and cases", "[kaz1]") {
  CHECK(PersonOf(Valid({{"Жынысы/Пол", "М"}})).sex == "M");
  CHECK(PersonOf(Valid({{"Жынысы/Пол", "м"}})).sex == "M");
  CHECK(PersonOf(Valid({{"Жынысы/Пол", "Е"}})).sex == "M");
  CHECK(PersonOf(Valid({{"Жынысы/Пол", " е "}})).sex == "M");
  const Cells girl = {{"ЖСН/ИИН", "061211600012"}, {"Туған күні/Дата рождения", "11.12.2006"}};
  for (const char* f : {"Ж", "ж", "Ә", "ә"}) {
    Cells c = Valid(girl);
    c["Жынысы/Пол"] = f;
    CHECK(PersonOf(c).sex == "F");
  }
  CHECK(KindOf(Valid({{"Жынысы/Пол", "M"}})) == "unknown_sex");  // Latin M
  CHECK(KindOf(Valid({{"Жынысы/Пол", ""}})) == "unknown_sex");
}

TEST_CASE("kaz-1 citizenship codes", "[kaz1]") {
  CHECK(PersonOf(Valid({{"Азаматтығы/Гражданство", "afg"}})).coo == "AFG");
  CHECK(PersonOf(Valid({{"Азаматтығы/Гражданство", "ЛБГ"}})).coo == "XXA");
  CHECK(PersonOf(Valid({{"Азаматтығы/Гражданство", "лбг"}})).coo == "XXA");
  CHECK(PersonOf(Valid({{"Азаматтығы/Гражданство", "-"}})).coo == "UNK");
  CHECK(PersonOf(Valid({{"Азаматтығы/Гражданство", " - "}})).coo == "UNK");
  CHECK(KindOf(Valid({{"Азаматтығы/Гражданство", "ZZQ"}})) == "unknown_country");
  CHECK(KindOf(Valid({{"Азаматтығы/Гражданство", "XXA"}})) == "unknown_country");
  CHECK(KindOf(Valid({{"Азаматтығы/Гражданство", "UNK"}})) == "unknown_country");
  CHECK(KindOf(Valid({{"Азаматтығы/Гражданство", "AF"}})) == "unknown_country");
  CHECK(KindOf(Valid({{"Азаматтығы/Гражданство", ""}})) == "unknown_country");
}

TEST_CASE("kaz-1 status texts", "[kaz1]") {
  CHECK(PersonOf(Valid({{"Мәртебесі/Статус", "беженец"}})).pop_type == "REF");
  CHECK(PersonOf(Valid({{"Мәртебесі/Статус", "БЕЖЕНЕЦ"}})).pop_type == "REF");
  CHECK(PersonOf(Valid({{"Мәртебесі/Статус", "лицо, ищущее убежище"}})).pop_type == "ASY");
  CHECK(PersonOf(Valid({{"Мәртебесі/Статус", "Лицо,  ищущее убежище "}})).pop_type == "ASY");
  CHECK(PersonOf(Valid({{"Мәртебесі/Статус", "лицо без гражданства"}})).pop_type == "STA");
  CHECK(PersonOf(Valid({{"Мәртебесі/Статус", "трудящийся-мигрант"}})).pop_type == "MIG");
  CHECK(KindOf(Valid({{"Мәртебесі/Статус", "турист"}})) == "unknown_status");
  CHECK(KindOf(Valid({{"Мәртебесі/Статус", "REF"}})) == "unknown_status");
}

TEST_CASE("kaz-1 regions, legacy names and city prefixes", "[kaz1]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Абайская область", "KZ-10"},
      {"абайская ОБЛАСТЬ", "KZ-10"},
      {"Восточно-Казахстанская область", "KZ-63"},
      {"Туркестанская область", "KZ-61"},
      {"Южно-Казахстанская область", "KZ-61"},
      {"г. Астана", "KZ-71"},
      {"г. Нур-Султан", "KZ-71"},
      {"город Нур-Султан", "KZ-71"},
      {"г. Алматы", "KZ-75"},
      {"г.Алматы", "KZ-75"},
      {"город Алматы", "KZ-75"},
      {"Город  Алматы", "KZ-75"},
      {"г Алматы", "KZ-75"},
      {"Г. АЛМАТЫ", "KZ-75"},
      {"г.  Шымкент", "KZ-79"},
  };
  for (const auto& [name, code] : cases) {
    INFO(name);
    CHECK(PersonOf(Valid({{"Облыс/Область", name}})).region == code);
  }
  CHECK(KindOf(Valid({{"Облыс/Область", "Нарнийская область"}})) == "unknown_region");
  CHECK(KindOf(Valid({{"Облыс/Область", "Алматы"}})) == "unknown_region");
  CHECK(KindOf(Valid({{"Облыс/Область", "г."}})) == "unknown_region");
  CHECK(KindOf(Valid({{"Облыс/Область", ""}})) == "unknown_region");
}

TEST_CASE("kaz-1 region table codes exist in the code lists", "[kaz1]") {
  for (const char* code :
       {"KZ-10", "KZ-11", "KZ-15", "KZ-19", "KZ-23", "KZ-27", "KZ-31", "KZ-33", "KZ-35", "KZ-39",
        "KZ-43", "KZ-47", "KZ-55", "KZ-59", "KZ-61", "KZ-62", "KZ-63", "KZ-71", "KZ-75", "KZ-79"}) {
    INFO(code);
    CHECK(CodeLists::Get().RegionByCode(code) != nullptr);
  }
}

TEST_CASE("kaz-1 date rules", "[kaz1]") {
  const std::string birth = "Туған күні/Дата рождения";
  const std::string reg = "Тіркелген күні/Дата регистрации";
  const std::string until = "Мәртебе мерзімі/Срок действия статуса";
  CHECK(KindOf(Valid({{birth, "1990-01-01"}})) == "bad_date");
  CHECK(KindOf(Valid({{birth, ""}})) == "bad_date");
  CHECK(KindOf(Valid({{birth, "01.00.1990"}})) == "bad_date");
  CHECK(KindOf(Valid({{reg, "31.02.2013"}})) == "bad_date");
  CHECK(KindOf(Valid({{reg, "00.02.2013"}})) == "bad_date");
  CHECK(KindOf(Valid({{reg, ""}})) == "bad_date");
  CHECK(KindOf(Valid({{until, "32.01.2016"}})) == "bad_date");
  // Registration against birth and the reference date.
  CHECK(KindOf(Valid({{reg, "31.12.1989"}})) == "reg_before_birth");
  CHECK(KindOf(Valid({{reg, "01.01.1990"}})) == "");
  CHECK(KindOf(Valid({{reg, "30.06.2015"}})) == "");
  CHECK(KindOf(Valid({{reg, "01.07.2015"}})) == "future_registration");
  // A partial birth date: only a registration before its earliest day fails.
  CHECK(KindOf(Valid({{birth, "00.00.1990"}, {reg, "01.01.1990"}})) == "");
  CHECK(KindOf(Valid({{birth, "00.00.1990"}, {reg, "31.12.1989"}})) == "reg_before_birth");
  CHECK(KindOf(Valid({{birth, "00.00.0000"}, {reg, "31.12.1989"}})) == "");
  // Validity date against registration.
  CHECK(KindOf(Valid({{until, "31.01.2010"}})) == "until_before_reg");
  CHECK(KindOf(Valid({{until, "01.02.2010"}})) == "");
  CHECK(KindOf(Valid({{until, "01.02.2012"}})) == "");  // valid, expired
}

TEST_CASE("kaz-1 birth after the reference date", "[kaz1]") {
  const std::string iin = MakeIin("150701", '5');  // 2015-07-01, male
  const Cells baby = {{"ЖСН/ИИН", iin},
                      {"Туған күні/Дата рождения", "01.07.2015"},
                      {"Тіркелген күні/Дата регистрации", "01.07.2015"}};
  CHECK(KindOf(Valid(baby)) == "future_birth");
  Cells early = Valid(baby);
  early["Туған күні/Дата рождения"] = "00.00.2015";
  early["Тіркелген күні/Дата регистрации"] = "30.06.2015";
  // Born in 2015 with month unknown: not provably in the future; age 0.
  CHECK(PersonOf(early).age == "0-4");
  early["Туған күні/Дата рождения"] = "00.07.2015";
  CHECK(KindOf(early) == "future_birth");
}

TEST_CASE("kaz-1 age bands at the reference date", "[kaz1]") {
  auto age_of = [](const std::string& yymmdd, char c, const std::string& birth) {
    return PersonOf(Valid({{"ЖСН/ИИН", MakeIin(yymmdd, c)},
                           {"Туған күні/Дата рождения", birth},
                           {"Тіркелген күні/Дата регистрации", "30.06.2015"}}))
        .age;
  };
  CHECK(age_of("100630", '5', "30.06.2010") == "5-11");
  CHECK(age_of("100701", '5', "01.07.2010") == "0-4");
  CHECK(age_of("970630", '3', "30.06.1997") == "18-59");
  CHECK(age_of("970701", '3', "01.07.1997") == "12-17");
  CHECK(age_of("550630", '3', "30.06.1955") == "60+");
  CHECK(age_of("550701", '3', "01.07.1955") == "18-59");
  // Unknown month: 1 July; unknown day: the 15th.
  CHECK(age_of("970101", '3', "00.00.1997") == "12-17");
  CHECK(age_of("970610", '3', "00.06.1997") == "18-59");
  CHECK(age_of("970710", '3', "00.07.1997") == "12-17");
  CHECK(age_of("970710", '3', "00.00.0000") == "unknown");
}

TEST_CASE("kaz-1 first failing rule is the one reported", "[kaz1]") {
  RunResult r = Run(Csv(kHeaders, {Valid({{"Тегі/Фамилия", ""},
                                          {"Облыс/Область", "Нарния"},
                                          {"Мәртебесі/Статус", "турист"}})}));
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.errors.size() == 1);
  CHECK(r.sink.errors[0].kind == "missing_name");
  CHECK(r.sink.errors[0].field == "Тегі/Фамилия");
  CHECK(r.sink.errors[0].row == 1);
  CHECK_FALSE(r.sink.errors[0].reason.empty());
}

TEST_CASE("kaz-1 errors name the canonical column", "[kaz1]") {
  RunResult r =
      Run(Csv(kHeaders, {Valid({{"ЖСН/ИИН", "900101300008"}}), Valid({{"Облыс/Область", "Нарния"}}),
                         Valid({{"Мәртебе мерзімі/Срок действия статуса", "01.01.2000"}})}));
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.errors.size() == 3);
  CHECK(r.sink.errors[0].field == "ЖСН/ИИН");
  CHECK(r.sink.errors[1].field == "Облыс/Область");
  CHECK(r.sink.errors[2].field == "Мәртебе мерзімі/Срок действия статуса");
  for (const RowError& e : r.sink.errors) {
    CHECK(e.reason.find("900101300008") == std::string::npos);
    CHECK(e.reason.find("Нарния") == std::string::npos);
  }
}

TEST_CASE("kaz-1 a failing sink stops the run with its status", "[kaz1]") {
  const AdapterInfo* info = AdapterRegistry::Global().Find("kaz-1");
  std::unique_ptr<Adapter> adapter = info->create();
  StringSource source(ReadFixture("kaz-1.csv"));
  TestSink sink;
  sink.fail_after_persons = 3;
  Status s = adapter->Run(source, AdapterContext{"KAZ", kRef, "utf-8"}, sink);
  CHECK(s.code() == Code::kInternal);
  CHECK(sink.persons.size() == 4);
}

TEST_CASE("kaz-1 NewAdapter works without the registry", "[kaz1]") {
  std::unique_ptr<Adapter> adapter = kaz1::NewAdapter();
  StringSource source(Csv(kHeaders, {Valid()}));
  TestSink sink;
  REQUIRE(adapter->Run(source, AdapterContext{"KAZ", kRef, "utf-8"}, sink).ok());
  CHECK(sink.persons.size() == 1);
}

}  // namespace
}  // namespace gw
