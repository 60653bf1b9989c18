#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "adapters/uzb-1/pinfl.h"
#include "adapters/uzb-1/uzb1_adapter.h"
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

RunResult RunSource(ByteSource& source, const std::string& charset = "", Date ref = kRef) {
  const AdapterInfo* info = AdapterRegistry::Global().Find("uzb-1");
  REQUIRE(info != nullptr);
  std::unique_ptr<Adapter> adapter = info->create();
  RunResult r;
  r.status = adapter->Run(source, AdapterContext{"UZB", ref, charset}, r.sink);
  return r;
}

RunResult Run(const std::string& data, const std::string& charset = "", Date ref = kRef) {
  StringSource source(data);
  return RunSource(source, charset, ref);
}

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

json Truth(const std::string& name) { return json::parse(ReadFixture(name)); }

Date TruthRef(const json& truth) {
  const std::string iso = truth["ref_date"].get<std::string>();
  return Date{std::stoi(iso.substr(0, 4)), std::stoi(iso.substr(5, 2)),
              std::stoi(iso.substr(8, 2))};
}

void CheckAgainstTruth(const RunResult& r, const json& truth) {
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
  CHECK(r.sink.cells == 0);
  const Date ref = TruthRef(truth);

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

  std::map<std::string, uint64_t> first_row_of_id;
  std::vector<const PersonRecord*> valid;
  std::set<uint64_t> seen_duplicates;
  uint64_t last_row = 0;
  for (const Emitted& e : r.sink.persons) {
    CHECK(e.row > last_row);  // file order
    last_row = e.row;
    CHECK(e.person.id_field == "jshshir");
    CHECK(e.person.person_id.size() == 14);
    auto [it, inserted] = first_row_of_id.emplace(e.person.person_id, e.row);
    if (duplicate_rows.count(e.row) > 0) {
      CHECK_FALSE(inserted);
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

// --- Hand-made documents ---------------------------------------------------------

// An item as (key, raw JSON value) pairs, in order.
using Fields = std::vector<std::pair<std::string, std::string>>;
const std::string kOmit = "<omit>";

std::string S(const std::string& text) { return json(text).dump(); }

// A valid item: the example of FORMATS.md (1997-11-02, male).
Fields Valid(const Fields& overrides = {}) {
  Fields f = {
      {"jshshir", S("30211975910033")},
      {"familiya", S("Karimov")},
      {"ism", S("Aziz")},
      {"otasining_ismi", S("Ahmadovich")},
      {"tugilgan_sana", S("02.11.1997")},
      {"jinsi", S("erkak")},
      {"fuqaroligi", S("004")},
      {"maqomi", S("qochqin")},
      {"hudud", S("Toshkent shahri")},
      {"royxatga_olingan_sana", S("14.03.2014")},
      {"amal_qilish_muddati", "null"},
  };
  for (const auto& [key, value] : overrides) {
    auto it = std::find_if(f.begin(), f.end(), [&](const auto& p) { return p.first == key; });
    if (value == kOmit) {
      if (it != f.end()) f.erase(it);
    } else if (it != f.end()) {
      it->second = value;
    } else {
      f.emplace_back(key, value);
    }
  }
  return f;
}

std::string Obj(const Fields& fields) {
  std::string out = "{";
  for (size_t i = 0; i < fields.size(); ++i) {
    out += (i ? ", " : "") + S(fields[i].first) + ": " + fields[i].second;
  }
  return out + "}";
}

const std::string kEksport = R"({"davlat": "UZB", "holat_sanasi": "30.06.2015", "versiya": 1})";

std::string Doc(const std::vector<std::string>& items, const std::string& eksport = kEksport,
                bool eksport_first = true) {
  std::string list = "[";
  for (size_t i = 0; i < items.size(); ++i) list += (i ? ",\n" : "\n") + items[i];
  list += "\n]";
  return eksport_first ? "{\"eksport\": " + eksport + ",\n \"yozuvlar\": " + list + "}\n"
                       : "{\"yozuvlar\": " + list + ",\n \"eksport\": " + eksport + "}\n";
}

std::string OneItem(const Fields& fields) { return Doc({Obj(fields)}); }

// The kind of the single item's error, or "" if it was accepted.
std::string KindOf(const Fields& fields) {
  RunResult r = Run(OneItem(fields));
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.persons.size() + r.sink.errors.size() == 1);
  return r.sink.errors.empty() ? "" : r.sink.errors[0].kind;
}

RowError ErrorOf(const Fields& fields) {
  RunResult r = Run(OneItem(fields));
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.errors.size() == 1);
  return r.sink.errors[0];
}

PersonRecord PersonOf(const Fields& fields) {
  RunResult r = Run(OneItem(fields));
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
  INFO((r.sink.errors.empty() ? "" : r.sink.errors[0].kind + ": " + r.sink.errors[0].reason));
  REQUIRE(r.sink.persons.size() == 1);
  return r.sink.persons[0].person;
}

// A valid PINFL for `ddmmyy`, sex/century digit `c` and region/serial codes.
std::string MakePinfl(char c, const std::string& ddmmyy, const std::string& codes = "591003") {
  const std::string first13 = std::string(1, c) + ddmmyy + codes;
  return first13 + static_cast<char>('0' + uzb1::PinflCheckDigit(first13));
}

// A status that fails: file faults must be InvalidArgument and say something.
void CheckFileFault(const RunResult& r, const std::string& needle) {
  INFO(r.status.ToString());
  REQUIRE_FALSE(r.status.ok());
  CHECK(r.status.code() == Code::kInvalidArgument);
  CHECK(r.status.message().find(needle) != std::string::npos);
}

// --- Registration and the sample ------------------------------------------------

TEST_CASE("uzb-1 is registered", "[uzb1]") {
  const AdapterInfo* info = AdapterRegistry::Global().Find("uzb-1");
  REQUIRE(info != nullptr);
  CHECK(info->country == "UZB");
  CHECK(info->charsets == std::vector<std::string>{"utf-8"});
  CHECK(info->media_type == "application/json");
}

TEST_CASE("uzb-1 sample matches its truth", "[uzb1]") {
  const json truth = Truth("uzb-1.truth.json");
  CheckAgainstTruth(Run(ReadFixture("uzb-1.json"), "utf-8", TruthRef(truth)), truth);
  CheckAgainstTruth(Run(ReadFixture("uzb-1.json"), "", TruthRef(truth)), truth);
  CheckAgainstTruth(Run(ReadFixture("uzb-1.json"), "UTF-8", TruthRef(truth)), truth);
}

TEST_CASE("uzb-1 sample exercises what it claims", "[uzb1]") {
  const std::string text = ReadFixture("uzb-1.json");
  CHECK(text.find("\\u02bb") != std::string::npos);
  CHECK(text.find("\\u2019") != std::string::npos);
  for (const char* mark : {"'", "ʻ", "ʼ", "‘", "’", "`"}) {
    INFO(mark);
    CHECK(text.find(mark) != std::string::npos);
  }
}

TEST_CASE("uzb-1 sample with eksport after yozuvlar matches its truth", "[uzb1]") {
  const std::string text = ReadFixture("uzb-1.json");
  // {"eksport": {...},\n "yozuvlar": [...]}  ->  {"yozuvlar": [...], "eksport": {...}}
  const size_t eksport_end = text.find('}') + 1;
  const size_t items = text.find("\"yozuvlar\"");
  const size_t close = text.rfind('}');
  REQUIRE(eksport_end < items);
  const std::string eksport = text.substr(1, eksport_end - 1);
  const std::string moved = "{" + text.substr(items, close - items) + ",\n " + eksport + "}\n";
  const json truth = Truth("uzb-1.truth.json");
  CheckAgainstTruth(Run(moved, "utf-8", TruthRef(truth)), truth);
}

TEST_CASE("uzb-1 sample against the wrong reference date is refused", "[uzb1]") {
  RunResult r = Run(ReadFixture("uzb-1.json"), "utf-8", kRef);
  CheckFileFault(r, "holat_sanasi");
  CHECK(r.status.message().find("2019-12-31") != std::string::npos);
  CHECK(r.status.message().find("2015-06-30") != std::string::npos);
  // eksport came first: nothing was read past it.
  CHECK(r.sink.persons.empty());
  CHECK(r.sink.errors.empty());
}

TEST_CASE("uzb-1 row errors never carry identifying values", "[uzb1]") {
  const std::string text = ReadFixture("uzb-1.json");
  const json truth = Truth("uzb-1.truth.json");
  RunResult r = Run(text, "utf-8", TruthRef(truth));
  REQUIRE(r.status.ok());
  REQUIRE_FALSE(r.sink.errors.empty());
  std::set<std::string> secrets;
  const json doc = json::parse(text);
  for (const json& item : doc["yozuvlar"]) {
    for (const char* key : {"jshshir", "familiya", "ism", "otasining_ismi", "tugilgan_sana"}) {
      if (item[key].is_string()) secrets.insert(item[key].get<std::string>());
    }
    const std::string id = item["jshshir"].get<std::string>();
    secrets.insert(id.substr(0, 7));  // sex, century and birth date
    secrets.insert(id.substr(7, 6));  // region and serial
  }
  REQUIRE(secrets.size() > 100);
  for (const RowError& e : r.sink.errors) {
    CHECK_FALSE(e.reason.empty());
    for (const std::string& s : secrets) {
      CHECK(e.reason.find(s) == std::string::npos);
      CHECK(e.field.find(s) == std::string::npos);
    }
  }
}

TEST_CASE("uzb-1 errors name the key", "[uzb1]") {
  const json truth = Truth("uzb-1.truth.json");
  RunResult r = Run(ReadFixture("uzb-1.json"), "utf-8", TruthRef(truth));
  REQUIRE(r.status.ok());
  std::map<uint64_t, std::string> fields;
  for (const RowError& e : r.sink.errors) fields[e.row] = e.field;
  CHECK(fields[3] == "jshshir");
  CHECK(fields[20] == "hudud");
  CHECK(fields[27] == "jshshir");
  CHECK(fields[37] == "fuqaroligi");
  CHECK(fields[51] == "amal_qilish_muddati");
}

// --- PINFL -----------------------------------------------------------------------

TEST_CASE("PINFL example from FORMATS.md", "[uzb1][pinfl]") {
  uzb1::PinflInfo info;
  REQUIRE(uzb1::ParsePinfl("30211975910033", &info) == uzb1::PinflFault::kNone);
  CHECK(info.birth == Date{1997, 11, 2});
  CHECK(info.sex == 'M');
  CHECK(uzb1::PinflCheckDigit("3021197591003") == 3);
}

TEST_CASE("PINFL format, checksum, century, codes and date", "[uzb1][pinfl]") {
  using uzb1::PinflFault;
  CHECK(uzb1::ParsePinfl("", nullptr) == PinflFault::kFormat);
  CHECK(uzb1::ParsePinfl("3021197591003", nullptr) == PinflFault::kFormat);
  CHECK(uzb1::ParsePinfl("302119759100333", nullptr) == PinflFault::kFormat);
  CHECK(uzb1::ParsePinfl("3021197591003X", nullptr) == PinflFault::kFormat);
  CHECK(uzb1::ParsePinfl("30211975910034", nullptr) == PinflFault::kChecksum);
  CHECK(uzb1::PinflCheckDigit("302119759100") == -1);
  for (char c : {'0', '7', '8', '9'}) {
    CHECK(uzb1::ParsePinfl(MakePinfl(c, "021197"), nullptr) == PinflFault::kCentury);
  }
  CHECK(uzb1::ParsePinfl(MakePinfl('3', "021197", "000003"), nullptr) == PinflFault::kZeroCode);
  CHECK(uzb1::ParsePinfl(MakePinfl('3', "021197", "591000"), nullptr) == PinflFault::kZeroCode);
  CHECK(uzb1::ParsePinfl(MakePinfl('3', "021397"), nullptr) == PinflFault::kDate);
  CHECK(uzb1::ParsePinfl(MakePinfl('5', "290201"), nullptr) == PinflFault::kDate);  // not leap
  uzb1::PinflInfo info;
  const std::vector<std::tuple<char, Date, char>> centuries = {
      {'1', Date{1897, 11, 2}, 'M'}, {'2', Date{1897, 11, 2}, 'F'}, {'3', Date{1997, 11, 2}, 'M'},
      {'4', Date{1997, 11, 2}, 'F'}, {'5', Date{2097, 11, 2}, 'M'}, {'6', Date{2097, 11, 2}, 'F'},
  };
  for (const auto& [c, birth, sex] : centuries) {
    REQUIRE(uzb1::ParsePinfl(MakePinfl(c, "021197"), &info) == PinflFault::kNone);
    CHECK(info.birth == birth);
    CHECK(info.sex == sex);
  }
  REQUIRE(uzb1::ParsePinfl(MakePinfl('6', "290200"), &info) == PinflFault::kNone);
  CHECK(info.birth == Date{2000, 2, 29});
}

// --- Item rules --------------------------------------------------------------------

TEST_CASE("uzb-1 maps a valid item to the shared schema", "[uzb1]") {
  PersonRecord p = PersonOf(Valid({{"amal_qilish_muddati", S("31.01.2016")}}));
  CHECK(p.person_id == "30211975910033");
  CHECK(p.id_field == "jshshir");
  CHECK(p.pop_type == "REF");
  CHECK(p.coo == "AFG");
  CHECK(p.sex == "M");
  CHECK(p.age == "12-17");
  CHECK(p.region == "UZ-TK");
  CHECK(p.registered == Date{2014, 3, 14});
  REQUIRE(p.valid_until.has_value());
  CHECK(*p.valid_until == Date{2016, 1, 31});
  CHECK_FALSE(PersonOf(Valid()).valid_until.has_value());
}

TEST_CASE("uzb-1 PINFL rules", "[uzb1]") {
  CHECK(KindOf(Valid({{"jshshir", S("")}})) == "bad_id_format");
  CHECK(KindOf(Valid({{"jshshir", "null"}})) == "bad_id_format");
  CHECK(KindOf(Valid({{"jshshir", kOmit}})) == "bad_id_format");
  CHECK(KindOf(Valid({{"jshshir", S("3021197591003")}})) == "bad_id_format");
  CHECK(KindOf(Valid({{"jshshir", S("3021197591OO33")}})) == "bad_id_format");
  CHECK(KindOf(Valid({{"jshshir", S("30211975910034")}})) == "bad_checksum");
  CHECK(KindOf(Valid({{"jshshir", S(MakePinfl('7', "021197"))}})) == "bad_id_format");
  CHECK(KindOf(Valid({{"jshshir", S(MakePinfl('3', "021197", "000003"))}})) == "bad_id_format");
  CHECK(KindOf(Valid({{"jshshir", S(MakePinfl('3', "021197", "591000"))}})) == "bad_id_format");
  CHECK(KindOf(Valid({{"jshshir", S(MakePinfl('3', "320197"))}})) == "bad_id_format");
  CHECK(PersonOf(Valid({{"jshshir", S(" 30211975910033 ")}})).person_id == "30211975910033");
  // Birth date agreement, on the known parts only.
  CHECK(KindOf(Valid({{"tugilgan_sana", S("03.11.1997")}})) == "id_birth_mismatch");
  CHECK(KindOf(Valid({{"tugilgan_sana", S("02.12.1997")}})) == "id_birth_mismatch");
  CHECK(KindOf(Valid({{"tugilgan_sana", S("02.11.1897")}})) == "id_birth_mismatch");
  CHECK(KindOf(Valid({{"tugilgan_sana", S("00.11.1997")}})) == "");
  CHECK(KindOf(Valid({{"tugilgan_sana", S("00.00.1997")}})) == "");
  CHECK(KindOf(Valid({{"tugilgan_sana", S("00.00.0000")}})) == "");
  CHECK(KindOf(Valid({{"tugilgan_sana", S("00.10.1997")}})) == "id_birth_mismatch");
  CHECK(KindOf(Valid({{"tugilgan_sana", S("00.00.1998")}})) == "id_birth_mismatch");
  // Sex agreement.
  CHECK(KindOf(Valid({{"jinsi", S("ayol")}})) == "id_sex_mismatch");
  CHECK(ErrorOf(Valid({{"jinsi", S("ayol")}})).field == "jshshir");
  const std::string woman = MakePinfl('4', "021197");
  CHECK(PersonOf(Valid({{"jshshir", S(woman)}, {"jinsi", S("ayol")}})).sex == "F");
  CHECK(KindOf(Valid({{"jshshir", S(woman)}})) == "id_sex_mismatch");
}

TEST_CASE("uzb-1 names are required, the patronymic is not", "[uzb1]") {
  CHECK(KindOf(Valid({{"familiya", S("")}})) == "missing_name");
  CHECK(KindOf(Valid({{"familiya", S(" \u00A0 ")}})) == "missing_name");
  CHECK(KindOf(Valid({{"familiya", "null"}})) == "missing_name");
  CHECK(KindOf(Valid({{"familiya", kOmit}})) == "missing_name");
  CHECK(ErrorOf(Valid({{"familiya", kOmit}})).field == "familiya");
  CHECK(KindOf(Valid({{"ism", S("")}})) == "missing_name");
  CHECK(KindOf(Valid({{"ism", kOmit}})) == "missing_name");
  CHECK(ErrorOf(Valid({{"ism", kOmit}})).field == "ism");
  CHECK(KindOf(Valid({{"otasining_ismi", kOmit}})) == "");
  CHECK(KindOf(Valid({{"otasining_ismi", "null"}})) == "");
  CHECK(KindOf(Valid({{"otasining_ismi", S("")}})) == "");
  CHECK(KindOf(Valid({{"otasining_ismi", "7"}})) == "wrong_type");
}

TEST_CASE("uzb-1 sex words", "[uzb1]") {
  CHECK(PersonOf(Valid({{"jinsi", S("erkak")}})).sex == "M");
  CHECK(PersonOf(Valid({{"jinsi", S(" ERKAK ")}})).sex == "M");
  CHECK(KindOf(Valid({{"jinsi", S("M")}})) == "unknown_sex");
  CHECK(KindOf(Valid({{"jinsi", S("")}})) == "unknown_sex");
  CHECK(KindOf(Valid({{"jinsi", "null"}})) == "unknown_sex");
  CHECK(KindOf(Valid({{"jinsi", kOmit}})) == "unknown_sex");
}

TEST_CASE("uzb-1 citizenship as ISO numeric codes", "[uzb1]") {
  CHECK(PersonOf(Valid({{"fuqaroligi", S("004")}})).coo == "AFG");
  CHECK(PersonOf(Valid({{"fuqaroligi", S("762")}})).coo == "TJK");
  CHECK(PersonOf(Valid({{"fuqaroligi", S(" 417 ")}})).coo == "KGZ");
  CHECK(PersonOf(Valid({{"fuqaroligi", "null"}})).coo == "XXA");
  CHECK(KindOf(Valid({{"fuqaroligi", S("4")}})) == "unknown_country");
  CHECK(KindOf(Valid({{"fuqaroligi", S("999")}})) == "unknown_country");
  CHECK(KindOf(Valid({{"fuqaroligi", S("000")}})) == "unknown_country");
  CHECK(KindOf(Valid({{"fuqaroligi", S("AFG")}})) == "unknown_country");
  CHECK(KindOf(Valid({{"fuqaroligi", S("")}})) == "unknown_country");
  CHECK(KindOf(Valid({{"fuqaroligi", S("0004")}})) == "unknown_country");
  // An absent key is not a statement of statelessness.
  CHECK(KindOf(Valid({{"fuqaroligi", kOmit}})) == "unknown_country");
  // The number 4 has lost its leading zeros: a wrong type, named.
  const RowError e = ErrorOf(Valid({{"fuqaroligi", "4"}}));
  CHECK(e.kind == "wrong_type");
  CHECK(e.field == "fuqaroligi");
  CHECK(e.reason.find("number") != std::string::npos);
}

TEST_CASE("uzb-1 statuses, with every apostrophe", "[uzb1]") {
  CHECK(PersonOf(Valid({{"maqomi", S("qochqin")}})).pop_type == "REF");
  CHECK(PersonOf(Valid({{"maqomi", S("Qochqin")}})).pop_type == "REF");
  CHECK(PersonOf(Valid({{"maqomi", S("mehnat muhojiri")}})).pop_type == "MIG");
  CHECK(PersonOf(Valid({{"maqomi", S("Mehnat  muhojiri ")}})).pop_type == "MIG");
  for (const char* mark : {"'", "ʻ", "ʼ", "‘", "’", "`"}) {
    INFO(mark);
    CHECK(PersonOf(Valid({{"maqomi", S(std::string("fuqaroligi yo") + mark + "q shaxs")}}))
              .pop_type == "STA");
    CHECK(PersonOf(Valid({{"maqomi", S(std::string("FUQAROLIGI YO") + mark + "Q SHAXS")}}))
              .pop_type == "STA");
  }
  // \u escapes are decoded before the comparison.
  CHECK(PersonOf(Valid({{"maqomi", "\"fuqaroligi yo\\u02BBq shaxs\""}})).pop_type == "STA");
  CHECK(PersonOf(Valid({{"maqomi", "\"fuqaroligi yo\\u2019q shaxs\""}})).pop_type == "STA");
  CHECK(KindOf(Valid({{"maqomi", S("fuqaroligi yoq shaxs")}})) == "unknown_status");
  CHECK(KindOf(Valid({{"maqomi", S("fuqaroligi yo\"q shaxs")}})) == "unknown_status");
  CHECK(KindOf(Valid({{"maqomi", S("REF")}})) == "unknown_status");
  CHECK(KindOf(Valid({{"maqomi", S("")}})) == "unknown_status");
  CHECK(KindOf(Valid({{"maqomi", "null"}})) == "unknown_status");
  CHECK(KindOf(Valid({{"maqomi", kOmit}})) == "unknown_status");
}

TEST_CASE("uzb-1 refuses asylum seekers with its own fault", "[uzb1]") {
  for (const char* text : {"boshpana izlovchi", "Boshpana  Izlovchi", " BOSHPANA IZLOVCHI"}) {
    INFO(text);
    const RowError e = ErrorOf(Valid({{"maqomi", S(text)}}));
    CHECK(e.kind == "asylum_in_uzb");
    CHECK(e.field == "maqomi");
    CHECK(e.reason.find("Uzbekistan has no national asylum procedure") != std::string::npos);
    CHECK(e.reason.find("uzb-1") != std::string::npos);
  }
}

TEST_CASE("uzb-1 regions, with every apostrophe", "[uzb1]") {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"Toshkent shahri", "UZ-TK"},      {"Toshkent viloyati", "UZ-TO"},
      {"Andijon viloyati", "UZ-AN"},     {"Buxoro viloyati", "UZ-BU"},
      {"Fargʻona viloyati", "UZ-FA"},    {"Jizzax viloyati", "UZ-JI"},
      {"Namangan viloyati", "UZ-NG"},    {"Navoiy viloyati", "UZ-NW"},
      {"Qashqadaryo viloyati", "UZ-QA"}, {"Qoraqalpogʻiston Respublikasi", "UZ-QR"},
      {"Samarqand viloyati", "UZ-SA"},   {"Sirdaryo viloyati", "UZ-SI"},
      {"Surxondaryo viloyati", "UZ-SU"}, {"Xorazm viloyati", "UZ-XO"},
  };
  for (const auto& [name, code] : table) {
    INFO(name);
    CHECK(PersonOf(Valid({{"hudud", S(name)}})).region == code);
    const Region* region = CodeLists::Get().RegionByCode(code);
    REQUIRE(region != nullptr);
    CHECK(region->country == "UZB");
  }
  for (const char* mark : {"'", "ʻ", "ʼ", "‘", "’", "`"}) {
    INFO(mark);
    CHECK(PersonOf(Valid({{"hudud", S(std::string("Farg") + mark + "ona viloyati")}})).region ==
          "UZ-FA");
    CHECK(PersonOf(Valid({{"hudud", S(std::string("qoraqalpog") + mark + "iston respublikasi")}}))
              .region == "UZ-QR");
  }
  CHECK(PersonOf(Valid({{"hudud", "\"Farg\\u02bbona viloyati\""}})).region == "UZ-FA");
  CHECK(PersonOf(Valid({{"hudud", S("  TOSHKENT   SHAHRI ")}})).region == "UZ-TK");
  CHECK(KindOf(Valid({{"hudud", S("Atlantida viloyati")}})) == "unknown_region");
  CHECK(KindOf(Valid({{"hudud", S("Toshkent")}})) == "unknown_region");
  CHECK(KindOf(Valid({{"hudud", S("Fargona viloyati")}})) == "unknown_region");
  CHECK(KindOf(Valid({{"hudud", S("")}})) == "unknown_region");
  CHECK(KindOf(Valid({{"hudud", kOmit}})) == "unknown_region");
}

TEST_CASE("uzb-1 date rules", "[uzb1]") {
  CHECK(KindOf(Valid({{"tugilgan_sana", S("1997-11-02")}})) == "bad_date");
  CHECK(KindOf(Valid({{"tugilgan_sana", S("")}})) == "bad_date");
  CHECK(KindOf(Valid({{"tugilgan_sana", "null"}})) == "bad_date");
  CHECK(KindOf(Valid({{"tugilgan_sana", kOmit}})) == "bad_date");
  CHECK(KindOf(Valid({{"tugilgan_sana", S("02.00.1997")}})) == "bad_date");
  CHECK(KindOf(Valid({{"royxatga_olingan_sana", S("31.02.2013")}})) == "bad_date");
  CHECK(KindOf(Valid({{"royxatga_olingan_sana", S("00.02.2013")}})) == "bad_date");
  CHECK(KindOf(Valid({{"royxatga_olingan_sana", "null"}})) == "bad_date");
  CHECK(KindOf(Valid({{"royxatga_olingan_sana", kOmit}})) == "bad_date");
  CHECK(KindOf(Valid({{"amal_qilish_muddati", S("32.01.2016")}})) == "bad_date");
  CHECK(KindOf(Valid({{"amal_qilish_muddati", S("")}})) == "bad_date");
  CHECK(KindOf(Valid({{"amal_qilish_muddati", kOmit}})) == "bad_date");
  // Registration against birth; after the reference date is the stock rule's business.
  CHECK(KindOf(Valid({{"royxatga_olingan_sana", S("01.11.1997")}})) == "reg_before_birth");
  CHECK(KindOf(Valid({{"royxatga_olingan_sana", S("02.11.1997")}})) == "");
  PersonRecord later = PersonOf(Valid({{"royxatga_olingan_sana", S("01.07.2015")}}));
  CHECK_FALSE(InStock(later, kRef));
  CHECK(KindOf(Valid({{"tugilgan_sana", S("00.00.1997")},
                      {"royxatga_olingan_sana", S("01.01.1997")}})) == "");
  CHECK(KindOf(Valid({{"tugilgan_sana", S("00.00.1997")},
                      {"royxatga_olingan_sana", S("31.12.1996")}})) == "reg_before_birth");
  CHECK(KindOf(Valid({{"tugilgan_sana", S("00.00.0000")},
                      {"royxatga_olingan_sana", S("31.12.1996")}})) == "");
  // Validity against registration.
  CHECK(KindOf(Valid({{"amal_qilish_muddati", S("13.03.2014")}})) == "until_before_reg");
  CHECK(KindOf(Valid({{"amal_qilish_muddati", S("14.03.2014")}})) == "");
  PersonRecord expired = PersonOf(Valid({{"amal_qilish_muddati", S("29.06.2015")}}));
  CHECK_FALSE(InStock(expired, kRef));
  PersonRecord last_day = PersonOf(Valid({{"amal_qilish_muddati", S("30.06.2015")}}));
  CHECK(InStock(last_day, kRef));
}

TEST_CASE("uzb-1 birth after the reference date", "[uzb1]") {
  const Fields baby = {{"jshshir", S(MakePinfl('5', "010715"))},
                       {"tugilgan_sana", S("01.07.2015")},
                       {"royxatga_olingan_sana", S("01.07.2015")}};
  CHECK(KindOf(Valid(baby)) == "future_birth");
  const Fields early = Valid({{"jshshir", S(MakePinfl('5', "010715"))},
                              {"tugilgan_sana", S("00.00.2015")},
                              {"royxatga_olingan_sana", S("30.06.2015")}});
  CHECK(PersonOf(early).age == "0-4");
  CHECK(KindOf(Valid({{"jshshir", S(MakePinfl('5', "010715"))},
                      {"tugilgan_sana", S("00.07.2015")},
                      {"royxatga_olingan_sana", S("30.06.2015")}})) == "future_birth");
}

TEST_CASE("uzb-1 age bands at the reference date", "[uzb1]") {
  auto age_of = [](char c, const std::string& ddmmyy, const std::string& birth) {
    return PersonOf(Valid({{"jshshir", S(MakePinfl(c, ddmmyy))},
                           {"tugilgan_sana", S(birth)},
                           {"royxatga_olingan_sana", S("30.06.2015")}}))
        .age;
  };
  CHECK(age_of('5', "300610", "30.06.2010") == "5-11");
  CHECK(age_of('5', "010710", "01.07.2010") == "0-4");
  CHECK(age_of('3', "300697", "30.06.1997") == "18-59");
  CHECK(age_of('3', "010797", "01.07.1997") == "12-17");
  CHECK(age_of('3', "300655", "30.06.1955") == "60+");
  CHECK(age_of('3', "010755", "01.07.1955") == "18-59");
  CHECK(age_of('3', "010197", "00.00.1997") == "12-17");  // 1 July
  CHECK(age_of('3', "100697", "00.06.1997") == "18-59");  // the 15th
  CHECK(age_of('3', "100797", "00.07.1997") == "12-17");
  CHECK(age_of('3', "100797", "00.00.0000") == "unknown");
}

TEST_CASE("uzb-1 first failing rule is the one reported", "[uzb1]") {
  const RowError e =
      ErrorOf(Valid({{"familiya", S("")}, {"hudud", S("Atlantida")}, {"maqomi", S("sayyoh")}}));
  CHECK(e.kind == "missing_name");
  CHECK(e.field == "familiya");
  CHECK(e.row == 1);
  // A structural fault comes before every rule, even in a later key.
  const RowError t = ErrorOf(Valid({{"jshshir", S("1")}, {"hudud", "true"}}));
  CHECK(t.kind == "wrong_type");
  CHECK(t.field == "hudud");
}

// --- JSON structure ----------------------------------------------------------------

TEST_CASE("uzb-1 values of the wrong JSON type are row errors naming the key", "[uzb1]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"jshshir", "30211975910033"},
      {"jshshir", "3.0211975910033e13"},
      {"familiya", "true"},
      {"ism", "[\"Aziz\"]"},
      {"tugilgan_sana", "{\"kun\": 2}"},
      {"jinsi", "false"},
      {"fuqaroligi", "[4]"},
      {"maqomi", "{}"},
      {"hudud", "14"},
      {"royxatga_olingan_sana", "20140314"},
      {"amal_qilish_muddati", "[]"},
      {"otasining_ismi", "{\"a\": [1, {\"b\": null}]}"},
  };
  for (const auto& [key, value] : cases) {
    INFO(key << ": " << value);
    const RowError e = ErrorOf(Valid({{key, value}}));
    CHECK(e.kind == "wrong_type");
    CHECK(e.field == key);
    CHECK(e.reason.find(key) != std::string::npos);
    CHECK(e.reason.find("30211975910033") == std::string::npos);
  }
}

TEST_CASE("uzb-1 items that are not objects are row errors; numbering goes on", "[uzb1]") {
  const std::string valid = Obj(Valid());
  RunResult r = Run(Doc({valid, "5", "[1, {\"jshshir\": \"x\"}, [2]]", "null", "\"x\"", valid}));
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.errors.size() == 4);
  for (size_t i = 0; i < 4; ++i) {
    CHECK(r.sink.errors[i].row == i + 2);
    CHECK(r.sink.errors[i].kind == "wrong_type");
    CHECK(r.sink.errors[i].field == "yozuvlar");
  }
  CHECK(r.sink.errors[1].reason.find("array") != std::string::npos);
  REQUIRE(r.sink.persons.size() == 2);
  CHECK(r.sink.persons[0].row == 1);
  CHECK(r.sink.persons[1].row == 6);
}

TEST_CASE("uzb-1 a key given twice in an item is refused", "[uzb1]") {
  Fields f = Valid();
  f.emplace_back("jshshir", S("30211975910033"));
  const RowError e = ErrorOf(f);
  CHECK(e.kind == "duplicate_key");
  CHECK(e.field == "jshshir");
  Fields g = Valid();
  g.emplace_back("HUDUD", S("Toshkent shahri"));  // keys are compared like headers
  CHECK(ErrorOf(g).kind == "duplicate_key");
}

TEST_CASE("uzb-1 keys in any order and any case; unknown keys and subtrees ignored", "[uzb1]") {
  Fields reversed = Valid();
  std::reverse(reversed.begin(), reversed.end());
  reversed.insert(reversed.begin() + 3,
                  {"izoh", R"({"jshshir": "1", "yozuvlar": [{"hudud": 5}], "x": [[[]]]})"});
  reversed.emplace_back("qoshimcha", "[1, 2.5, true, null, \"s\", {\"familiya\": null}]");
  Fields upper = Valid();
  for (auto& [key, value] : upper) {
    for (char& c : key) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  const std::string doc =
      "{\"meta\": {\"eksport\": 1, \"yozuvlar\": [1, 2, {\"a\": {}}]},\n"
      " \"eksport\": {\"manba\": {\"holat_sanasi\": \"bad\"}, \"holat_sanasi\": \"30.06.2015\","
      " \"izoh\": [\"x\"]},\n"
      " \"n\": 1, \"s\": \"x\", \"b\": false, \"z\": null,\n"
      " \"yozuvlar\": [" +
      Obj(reversed) + ",\n" + Obj(upper) +
      "],\n"
      " \"tail\": {\"yozuvlar\": [{}]}}";
  RunResult r = Run(doc);
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
  CHECK(r.sink.errors.empty());
  REQUIRE(r.sink.persons.size() == 2);
  CHECK(r.sink.persons[0].person.region == "UZ-TK");
  CHECK(r.sink.persons[1].row == 2);
}

TEST_CASE("uzb-1 \\u escapes are decoded", "[uzb1]") {
  const Fields escaped =
      Valid({{"jshshir", "\"\\u0033\\u00302119759\\u0031\\u0030\\u0030\\u00333\""},
             {"familiya", "\"\\u041a\\u0430\\u0440\\u0438\\u043c\\u043e\\u0432\""},
             {"jinsi", "\"\\u0065rkak\""},
             {"hudud", "\"Qoraqalpog\\u2018iston Respublikasi\""}});
  PersonRecord p = PersonOf(escaped);
  CHECK(p.person_id == "30211975910033");
  CHECK(p.region == "UZ-QR");
  // A key may be escaped too.
  std::string item = Obj(Valid({{"hudud", kOmit}}));
  item.insert(item.size() - 1, ", \"h\\u0075dud\": \"Xorazm viloyati\"");
  RunResult r = Run(Doc({item}));
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.persons.size() == 1);
  CHECK(r.sink.persons[0].person.region == "UZ-XO");
}

TEST_CASE("uzb-1 eksport rules", "[uzb1]") {
  const std::string item = Obj(Valid());
  // Accepted variants.
  for (const std::string& eksport :
       {std::string(R"({"holat_sanasi": "30.06.2015"})"),
        std::string(R"({"versiya": "1", "davlat": "uzb", "holat_sanasi": " 30.06.2015 "})"),
        std::string(R"({"davlat": null, "versiya": null, "holat_sanasi": "30.06.2015"})"),
        std::string(R"({"davlat": "UZB", "holat_sanasi": "30.06.2015", "versiya": 1.0})")}) {
    INFO(eksport);
    RunResult r = Run(Doc({item}, eksport));
    INFO(r.status.ToString());
    CHECK(r.status.ok());
    CHECK(r.sink.persons.size() == 1);
  }
  CheckFileFault(Run(Doc({item}, R"({"davlat": "KAZ", "holat_sanasi": "30.06.2015"})")), "davlat");
  CheckFileFault(Run(Doc({item}, R"({"davlat": 860, "holat_sanasi": "30.06.2015"})")), "davlat");
  CheckFileFault(Run(Doc({item}, R"({"holat_sanasi": "30.06.2015", "versiya": 2})")), "versiya");
  CheckFileFault(Run(Doc({item}, R"({"davlat": "UZB"})")), "holat_sanasi");
  CheckFileFault(Run(Doc({item}, R"({"holat_sanasi": null})")), "holat_sanasi");
  CheckFileFault(Run(Doc({item}, R"({"holat_sanasi": "2015-06-30"})")), "holat_sanasi");
  CheckFileFault(Run(Doc({item}, R"({"holat_sanasi": 20150630})")), "holat_sanasi");
  CheckFileFault(Run(Doc({item}, R"({"holat_sanasi": ["30.06.2015"]})")), "holat_sanasi");
  CheckFileFault(Run(Doc({item}, R"({"holat_sanasi": "01.07.2015"})")), "2015-07-01");
  CheckFileFault(
      Run(Doc({item}, R"({"holat_sanasi": "30.06.2015", "holat_sanasi": "30.06.2015"})")), "twice");
  CheckFileFault(Run(Doc({item}, "[]")), "eksport");
  CheckFileFault(Run(Doc({item}, "\"30.06.2015\"")), "eksport");
  CheckFileFault(Run(Doc({item}, "null")), "eksport");
}

TEST_CASE("uzb-1 eksport after the items is checked at the end", "[uzb1]") {
  const std::string item = Obj(Valid());
  RunResult ok = Run(Doc({item, item}, kEksport, false));
  REQUIRE(ok.status.ok());
  CHECK(ok.sink.persons.size() == 2);
  // The items streamed past before the date was known; the fault still
  // refuses the whole file (the pipeline rolls back what was emitted).
  RunResult wrong = Run(Doc({item, item}, R"({"holat_sanasi": "31.12.2019"})", false));
  CheckFileFault(wrong, "holat_sanasi");
  CHECK(wrong.sink.persons.size() == 2);
  CheckFileFault(Run(Doc({item}, R"({"davlat": "UZB"})", false)), "holat_sanasi");
  // No eksport at all.
  CheckFileFault(Run("{\"yozuvlar\": [" + item + "]}"), "eksport");
}

TEST_CASE("uzb-1 root structure faults", "[uzb1]") {
  const std::string item = Obj(Valid());
  CheckFileFault(Run("[" + item + "]"), "not an object");
  CheckFileFault(Run("\"x\""), "not an object");
  CheckFileFault(Run("null"), "not an object");
  CheckFileFault(Run("{\"eksport\": " + kEksport + "}"), "yozuvlar");
  CheckFileFault(Run("{\"eksport\": " + kEksport + ", \"yozuvlar\": {}}"), "yozuvlar");
  CheckFileFault(Run("{\"eksport\": " + kEksport + ", \"yozuvlar\": null}"), "yozuvlar");
  CheckFileFault(Run("{\"eksport\": " + kEksport + ", \"yozuvlar\": [], \"yozuvlar\": []}"),
                 "twice");
  CheckFileFault(
      Run("{\"eksport\": " + kEksport + ", \"eksport\": " + kEksport + ", \"yozuvlar\": []}"),
      "twice");
  // An empty list is a well-formed file with no rows (the pipeline refuses it as empty).
  RunResult empty = Run(Doc({}));
  CHECK(empty.status.ok());
  CHECK(empty.sink.persons.empty());
  CHECK(empty.sink.errors.empty());
}

TEST_CASE("uzb-1 malformed and truncated JSON is a whole-file fault with its byte", "[uzb1]") {
  CheckFileFault(Run(""), "empty");
  CheckFileFault(Run("   \n"), "malformed JSON at byte 4");
  CheckFileFault(Run(Doc({Obj(Valid())}) + "{}"), "malformed JSON at byte");
  CheckFileFault(Run("{\"eksport\": " + kEksport + ", \"yozuvlar\": [1,]}"),
                 "malformed JSON at byte");
  // Every prefix of a document is refused, never crashes, and never echoes
  // the identifying value the cut may fall into.
  const std::string doc = Doc({Obj(Valid()), Obj(Valid())});
  for (size_t cut = 1; cut + 1 < doc.size(); ++cut) {
    const std::string prefix = doc.substr(0, cut);
    if (prefix.find_first_not_of(" \n") == std::string::npos) continue;
    RunResult r = Run(prefix);
    INFO(prefix);
    REQUIRE_FALSE(r.status.ok());
    CHECK(r.status.code() == Code::kInvalidArgument);
    CHECK(r.status.message().find("malformed JSON at byte") != std::string::npos);
    CHECK(r.status.message().find("302119") == std::string::npos);
    CHECK(r.status.message().find("Karimov") == std::string::npos);
  }
  RunResult cut = Run(doc.substr(0, doc.find("75910033")));
  CheckFileFault(cut, "truncated");
  CHECK(cut.status.message().find("malformed JSON at byte " +
                                  std::to_string(doc.find("75910033"))) != std::string::npos);
  // A lexer error quotes the bad token in nlohmann's message; ours does not.
  RunResult bad = Run(Doc({Obj(Valid({{"jshshir", "\"30211975910033\x01\""}}))}));
  CheckFileFault(bad, "malformed JSON at byte");
  CHECK(bad.status.message().find("3021197591") == std::string::npos);
  RunResult overflow = Run(Doc({Obj(Valid({{"jshshir", "30211975910033e999"}}))}));
  CheckFileFault(overflow, "malformed JSON at byte");
  CHECK(overflow.status.message().find("3021197591") == std::string::npos);
}

TEST_CASE("uzb-1 charset and encoding faults", "[uzb1]") {
  const std::string doc = Doc({Obj(Valid())});
  CheckFileFault(Run(doc, "rk1048"), "charset");
  CheckFileFault(Run(doc, "windows-1251"), "charset");
  CHECK(Run(doc, "utf8").status.ok());
  // Invalid UTF-8 (a Latin-1 ʻ stand-in) names its byte offset.
  std::string latin1 = Doc({Obj(Valid({{"hudud", "\"Farg\xB4ona viloyati\""}}))});
  CheckFileFault(Run(latin1), "byte offset " + std::to_string(latin1.find('\xB4')));
  // A UTF-8 byte order mark is allowed.
  RunResult bom = Run("\xEF\xBB\xBF" + doc);
  INFO(bom.status.ToString());
  CHECK(bom.status.ok());
  CHECK(bom.sink.persons.size() == 1);
}

TEST_CASE("uzb-1 a failing sink stops the run with its status", "[uzb1]") {
  const json truth = Truth("uzb-1.truth.json");
  std::unique_ptr<Adapter> adapter = uzb1::NewAdapter();
  StringSource source(ReadFixture("uzb-1.json"));
  TestSink sink;
  sink.fail_after_persons = 3;
  Status s = adapter->Run(source, AdapterContext{"UZB", TruthRef(truth), "utf-8"}, sink);
  CHECK(s.code() == Code::kInternal);
  CHECK(sink.persons.size() == 4);
}

TEST_CASE("uzb-1 NewAdapter works without the registry", "[uzb1]") {
  std::unique_ptr<Adapter> adapter = uzb1::NewAdapter();
  StringSource source(OneItem(Valid()));
  TestSink sink;
  REQUIRE(adapter->Run(source, AdapterContext{"UZB", kRef, "utf-8"}, sink).ok());
  CHECK(sink.persons.size() == 1);
}

// --- Streaming ---------------------------------------------------------------------

// Generates {"eksport": ..., "yozuvlar": [item × n]} on the fly, a few bytes
// per Read, so the document never exists in memory as a whole. Every 1000th
// item has a wrong check digit.
class GeneratedSource : public ByteSource {
 public:
  explicit GeneratedSource(uint64_t items) : items_(items) {
    pending_ = "{\"eksport\": " + kEksport + ",\n \"yozuvlar\": [\n";
    good_ = Obj(Valid({{"amal_qilish_muddati", S("31.12.2016")}}));
    bad_ = Obj(Valid({{"jshshir", S("30211975910034")}}));
  }

  Result<size_t> Read(char* buffer, size_t capacity) override {
    while (pos_ == pending_.size()) {
      if (next_ > items_) return size_t{0};
      pending_.clear();
      pos_ = 0;
      if (next_ == items_) {
        pending_ = "\n]}\n";
      } else {
        if (next_ > 0) pending_ = ",\n";
        pending_ += (next_ + 1) % 1000 == 0 ? bad_ : good_;
      }
      ++next_;
    }
    const size_t n = std::min(capacity, pending_.size() - pos_);
    std::memcpy(buffer, pending_.data() + pos_, n);
    pos_ += n;
    total_ += n;
    return n;
  }

  uint64_t total() const { return total_; }

 private:
  uint64_t items_, next_ = 0, total_ = 0;
  std::string pending_, good_, bad_;
  size_t pos_ = 0;
};

// Counts only: the test must not hold the records either.
class CountingSink : public RecordSink {
 public:
  Status OnPerson(uint64_t row, PersonRecord&& p) override {
    if (row != ++last_) return Status::Internal("rows out of order");
    if (p.region != "UZ-TK" || p.coo != "AFG") return Status::Internal("wrong record");
    ++persons;
    return Status::Ok();
  }
  Status OnCell(uint64_t, CellRecord&&) override { return Status::Internal("no cells in uzb-1"); }
  Status OnRowError(RowError&& e) override {
    if (e.row != ++last_ || e.kind != "bad_checksum") return Status::Internal("wrong error");
    ++errors;
    return Status::Ok();
  }
  uint64_t persons = 0, errors = 0, last_ = 0;
};

TEST_CASE("uzb-1 streams 200,000 items generated on the fly", "[uzb1][stream]") {
  constexpr uint64_t kItems = 200000;
  GeneratedSource source(kItems);
  CountingSink sink;
  const auto start = std::chrono::steady_clock::now();
  Status s = uzb1::NewAdapter()->Run(source, AdapterContext{"UZB", kRef, "utf-8"}, sink);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(s.ToString());
  INFO(kItems << " items, " << source.total() / (1024 * 1024) << " MiB in " << seconds << " s");
  REQUIRE(s.ok());
  CHECK(sink.persons == kItems - kItems / 1000);
  CHECK(sink.errors == kItems / 1000);
  CHECK(source.total() > 50u * 1000 * 1000);
}

// A string value that never ends: refused once it passes the token bound,
// long before memory could grow with it.
class EndlessStringSource : public ByteSource {
 public:
  Result<size_t> Read(char* buffer, size_t capacity) override {
    if (!started_) {
      started_ = true;
      const std::string head = "{\"eksport\": " + kEksport + ", \"yozuvlar\": [{\"familiya\": \"";
      const size_t n = std::min(capacity, head.size());
      std::memcpy(buffer, head.data(), n);
      return n;
    }
    if (total_ > (64u << 20)) return Status::Internal("the adapter kept reading");
    std::memset(buffer, 'a', capacity);
    total_ += capacity;
    return capacity;
  }

 private:
  bool started_ = false;
  uint64_t total_ = 0;
};

TEST_CASE("uzb-1 refuses a single over-long token", "[uzb1][stream]") {
  EndlessStringSource source;
  RunResult r = RunSource(source);
  CheckFileFault(r, "MiB");
}

}  // namespace
}  // namespace gw
