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

#include "adapters/tkm-1/tkm1_adapter.h"
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

const Date kRef{2019, 12, 31};

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(GW_FIXTURES_DIR) + "/" + name, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct EmittedCell {
  uint64_t row;
  CellRecord cell;
};

class TestSink : public RecordSink {
 public:
  Status OnPerson(uint64_t, PersonRecord&&) override {
    ++persons;
    return Status::Ok();
  }
  Status OnCell(uint64_t row, CellRecord&& cell) override {
    cells.push_back(EmittedCell{row, std::move(cell)});
    return fail_after_cells >= 0 && static_cast<int>(cells.size()) > fail_after_cells
               ? Status::Internal("sink full")
               : Status::Ok();
  }
  Status OnRowError(RowError&& error) override {
    errors.push_back(std::move(error));
    return Status::Ok();
  }

  std::vector<EmittedCell> cells;
  std::vector<RowError> errors;
  int persons = 0;
  int fail_after_cells = -1;
};

struct RunResult {
  Status status;
  TestSink sink;
};

RunResult Run(const std::string& data, const std::string& charset = "utf-8", Date ref = kRef) {
  const AdapterInfo* info = AdapterRegistry::Global().Find("tkm-1");
  REQUIRE(info != nullptr);
  std::unique_ptr<Adapter> adapter = info->create();
  StringSource source(data);
  RunResult r;
  r.status = adapter->Run(source, AdapterContext{"TKM", ref, charset}, r.sink);
  return r;
}

std::string Nfd(const std::string& nfc) {
  UErrorCode ec = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(ec);
  REQUIRE(U_SUCCESS(ec));
  const icu::UnicodeString decomposed = nfd->normalize(icu::UnicodeString::fromUTF8(nfc), ec);
  REQUIRE(U_SUCCESS(ec));
  std::string text;
  decomposed.toUTF8String(text);
  return text;
}

// --- Hand-made files ----------------------------------------------------------

using Cells = std::map<std::string, std::string>;

const std::vector<std::string> kHeaders = {"senesi", "welaýat",    "raýatlygy", "status",
                                           "jynsy",  "ýaş_topary", "sany"};

// A valid row, with `overrides` applied.
Cells Valid(const Cells& overrides = {}) {
  Cells row = {
      {"senesi", "2019-12-31"}, {"welaýat", "Ahal"},     {"raýatlygy", "AFG"}, {"status", "bosgun"},
      {"jynsy", "erkek"},       {"ýaş_topary", "18-59"}, {"sany", "3"}};
  for (const auto& [k, v] : overrides) row[k] = v;
  return row;
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

std::string Csv(const std::vector<std::string>& headers, const std::vector<Cells>& rows,
                const std::string& eol = "\n") {
  std::string out;
  for (size_t i = 0; i < headers.size(); ++i) out += (i ? "," : "") + Quote(headers[i]);
  out += eol;
  for (const Cells& row : rows) {
    for (size_t i = 0; i < headers.size(); ++i) {
      auto it = row.find(headers[i]);
      out += (i ? "," : "") + Quote(it == row.end() ? "" : it->second);
    }
    out += eol;
  }
  return out;
}

// The single cell of a one-row file; fails the test if the row was not valid.
CellRecord CellOf(const Cells& row) {
  RunResult r = Run(Csv(kHeaders, {row}));
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.errors.empty());
  REQUIRE(r.sink.cells.size() == 1);
  return r.sink.cells[0].cell;
}

// The error kind of a one-row file ("" if the row was valid).
std::string KindOf(const Cells& row) {
  RunResult r = Run(Csv(kHeaders, {row}));
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.errors.size() + r.sink.cells.size() == 1);
  return r.sink.errors.empty() ? "" : r.sink.errors[0].kind;
}

// The whole-file fault of a file (empty if the run succeeded).
std::string FaultOf(const std::string& data, const std::string& charset = "utf-8",
                    Date ref = kRef) {
  RunResult r = Run(data, charset, ref);
  if (r.status.ok()) return "";
  CHECK(r.status.code() == Code::kInvalidArgument);
  CHECK_FALSE(r.status.message().empty());
  return r.status.message();
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// --- Comparison with the truth file ---------------------------------------------

std::string Dim(const CellRecord& c, const std::string& name) {
  if (name == "pop_type") return c.pop_type;
  if (name == "coo") return c.coo;
  if (name == "sex") return c.sex;
  if (name == "age") return c.age;
  if (name == "region") return c.region;
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
  CHECK(r.sink.persons == 0);
  CHECK(truth["rows"].is_null());

  std::map<uint64_t, std::string> expected_errors, actual_errors;
  for (const json& e : truth["invalid"]) {
    expected_errors[e["row"].get<uint64_t>()] = e["kind"].get<std::string>();
  }
  for (const RowError& e : r.sink.errors) {
    CHECK(actual_errors.count(e.row) == 0);  // one error per row
    actual_errors[e.row] = e.kind;
  }
  CHECK(actual_errors == expected_errors);

  // Rows come in file order and each key appears once.
  uint64_t last_row = 0;
  std::set<std::string> keys;
  int64_t in_stock = 0;
  std::map<std::string, std::map<std::string, int64_t>> counts;
  for (const EmittedCell& e : r.sink.cells) {
    CHECK(e.row > last_row);
    last_row = e.row;
    const CellRecord& c = e.cell;
    CHECK(keys.insert(c.pop_type + c.coo + c.sex + c.age + c.region).second);
    CHECK(c.count >= 0);
    in_stock += c.count;
    if (c.count == 0) continue;  // zero cells are not stored
    for (auto it = truth["counts"].begin(); it != truth["counts"].end(); ++it) {
      const std::vector<std::string> dims =
          it.key() == "full" ? std::vector<std::string>{"pop_type", "coo", "sex", "age", "region"}
                             : SplitComma(it.key());
      std::string key;
      for (const std::string& d : dims) key += (key.empty() ? "" : ",") + Dim(c, d);
      counts[it.key()][key] += c.count;
    }
  }
  CHECK(in_stock == truth["in_stock"].get<int64_t>());
  for (auto it = truth["counts"].begin(); it != truth["counts"].end(); ++it) {
    INFO("counts table " << it.key());
    CHECK(counts[it.key()] == it.value().get<std::map<std::string, int64_t>>());
  }
}

json Truth() { return json::parse(ReadFixture("tkm-1.truth.json")); }

// Data lines of the sample (without the header line).
std::vector<std::string> SampleLines() {
  std::istringstream in(ReadFixture("tkm-1.csv"));
  std::vector<std::string> lines;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line))
    if (!line.empty()) lines.push_back(line);
  return lines;
}

const std::string kHeaderLine = "senesi,welaýat,raýatlygy,status,jynsy,ýaş_topary,sany";

// --- Tests ----------------------------------------------------------------------

TEST_CASE("tkm-1 is registered", "[tkm1]") {
  const AdapterInfo* info = AdapterRegistry::Global().Find("tkm-1");
  REQUIRE(info != nullptr);
  CHECK(info->country == "TKM");
  CHECK(info->charsets == std::vector<std::string>{"utf-8"});
  CHECK(info->media_type == "text/csv");
  CHECK_FALSE(info->description.empty());
}

TEST_CASE("tkm-1 sample matches its truth", "[tkm1]") {
  RunResult r = Run(ReadFixture("tkm-1.csv"));
  CheckAgainstTruth(r, Truth());
  CHECK(r.sink.cells.size() == SampleLines().size());
  CHECK(r.sink.errors.empty());
}

TEST_CASE("tkm-1 sample with no charset defaults to UTF-8", "[tkm1]") {
  CheckAgainstTruth(Run(ReadFixture("tkm-1.csv"), ""), Truth());
  CheckAgainstTruth(Run(ReadFixture("tkm-1.csv"), "UTF8"), Truth());
}

TEST_CASE("tkm-1 sample in NFD, with BOM and CRLF, matches the truth", "[tkm1]") {
  const std::string nfc = ReadFixture("tkm-1.csv");
  const std::string nfd = Nfd(nfc);
  REQUIRE(nfd != nfc);  // ý, ş, ä and friends did decompose
  CheckAgainstTruth(Run(nfd), Truth());

  std::string crlf = "\xEF\xBB\xBF";
  for (char c : nfc) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  CheckAgainstTruth(Run(crlf), Truth());
}

TEST_CASE("tkm-1 sample with shuffled columns, upper case and an extra column", "[tkm1]") {
  // Column order: sany, extra, ýaş_topary, jynsy, status, raýatlygy, welaýat, senesi.
  std::string text =
      "SANY,\"bellik, \"\"note\"\"\",ÝAŞ_TOPARY,Jynsy,STATUS,Raýatlygy,WELAÝAT,Senesi\n";
  for (const std::string& line : SampleLines()) {
    std::vector<std::string> f = SplitComma(line);
    REQUIRE(f.size() == 7);
    auto upper = [](std::string s) {
      // ASCII only; the Turkmen letters keep their case, which FoldKey handles too.
      for (char& c : s)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      return s;
    };
    text += f[6] + ",\"x,\"\"y\"\"\nz\"," + f[5] + "," + upper(f[4]) + "," + upper(f[3]) + "," +
            f[2] + ", " + upper(f[1]) + " ," + f[0] + "\n";
  }
  CheckAgainstTruth(Run(text), Truth());
}

TEST_CASE("tkm-1 sample against another reference date is refused", "[tkm1]") {
  const std::string msg = FaultOf(ReadFixture("tkm-1.csv"), "utf-8", Date{2015, 6, 30});
  CHECK(Contains(msg, "row 1 "));
  CHECK(Contains(msg, "line 2"));
  CHECK(Contains(msg, "senesi"));
  CHECK(Contains(msg, "2015-06-30"));
  CHECK(Contains(msg, "2019-12-31"));
}

TEST_CASE("tkm-1 a wrong senesi on any row refuses the file", "[tkm1]") {
  RunResult r = Run(Csv(kHeaders, {Valid(), Valid({{"welaýat", "Mary"}}),
                                   Valid({{"senesi", "2019-12-30"}, {"welaýat", "Lebap"}}),
                                   Valid({{"welaýat", "Balkan"}})}));
  REQUIRE_FALSE(r.status.ok());
  CHECK(r.status.code() == Code::kInvalidArgument);
  CHECK(Contains(r.status.message(), "row 3 (line 4)"));
  CHECK(Contains(r.status.message(), "senesi"));
  CHECK(Contains(r.status.message(), "2019-12-30"));
  CHECK(r.sink.errors.empty());     // a file fault, not a row error
  CHECK(r.sink.cells.size() == 2);  // streamed; the pipeline rolls back

  for (const char* bad : {"31.12.2019", "2019-12-31T00:00", "2019-02-30", "", "2019/12/31",
                          "20191231", "2019-12-1"}) {
    INFO(bad);
    const std::string msg = FaultOf(Csv(kHeaders, {Valid(), Valid({{"senesi", bad}})}));
    CHECK(Contains(msg, "row 2 (line 3)"));
    CHECK(Contains(msg, "senesi"));
    if (*bad != '\0') CHECK_FALSE(Contains(msg, bad));  // unparsed input is not echoed
  }
  // Surrounding white space is trimmed like every other value.
  CHECK(FaultOf(Csv(kHeaders, {Valid({{"senesi", " 2019-12-31 "}})})).empty());
}

TEST_CASE("tkm-1 counts", "[tkm1]") {
  CHECK(CellOf(Valid({{"sany", "0"}})).count == 0);  // a zero cell is valid and emitted
  CHECK(CellOf(Valid({{"sany", "1"}})).count == 1);
  CHECK(CellOf(Valid({{"sany", "10000000"}})).count == 10'000'000);
  CHECK(CellOf(Valid({{"sany", "0042"}})).count == 42);
  CHECK(CellOf(Valid({{"sany", " 7 "}})).count == 7);
  for (const char* bad : {"", "-1", "+1", "-0", "1.0", "1,000", "1 000", "1.000", "10000001",
                          "99999999999999999999999999", "1e3", "abc", "٣", "３", "0x10", "12a"}) {
    INFO(bad);
    RunResult r = Run(Csv(kHeaders, {Valid(), Valid({{"welaýat", "Mary"}, {"sany", bad}})}));
    REQUIRE_FALSE(r.status.ok());
    CHECK(r.status.code() == Code::kInvalidArgument);
    CHECK(Contains(r.status.message(), "row 2 (line 3)"));
    CHECK(Contains(r.status.message(), "\"sany\""));
    CHECK(r.sink.errors.empty());
  }
}

TEST_CASE("tkm-1 a bad count refuses the file even on a row with a bad code", "[tkm1]") {
  const std::string msg = FaultOf(Csv(kHeaders, {Valid({{"welaýat", "Narnia"}, {"sany", "-5"}})}));
  CHECK(Contains(msg, "sany"));
  CHECK(Contains(msg, "row 1"));
}

TEST_CASE("tkm-1 a duplicate cell refuses the file", "[tkm1]") {
  RunResult r = Run(Csv(
      kHeaders, {Valid({{"sany", "4"}}), Valid({{"welaýat", "Mary"}}), Valid({{"sany", "9"}})}));
  REQUIRE_FALSE(r.status.ok());
  CHECK(r.status.code() == Code::kInvalidArgument);
  CHECK(Contains(r.status.message(), "row 3 (line 4)"));
  CHECK(Contains(r.status.message(), "row 1;"));
  CHECK(Contains(r.status.message(), "welaýat"));
  CHECK(r.sink.errors.empty());

  // The same cell spelt differently is still the same cell.
  CHECK_FALSE(FaultOf(Csv(kHeaders, {Valid(), Valid({{"welaýat", " AHAL "},
                                                     {"raýatlygy", "afg"},
                                                     {"status", "BOSGUN"},
                                                     {"jynsy", "Erkek"}})}))
                  .empty());
  CHECK_FALSE(FaultOf(Csv(kHeaders, {Valid({{"status", "raýatlygy ýok"}}),
                                     Valid({{"status", Nfd("RAÝATLYGY  ÝOK")}})}))
                  .empty());
  // Zero counts take part too.
  CHECK_FALSE(FaultOf(Csv(kHeaders, {Valid({{"sany", "0"}}), Valid({{"sany", "0"}})})).empty());

  // Cells that differ in any one key column are distinct.
  RunResult ok =
      Run(Csv(kHeaders, {Valid(), Valid({{"welaýat", "Mary"}}), Valid({{"raýatlygy", "IRN"}}),
                         Valid({{"status", "bosgun"}, {"jynsy", "aýal"}}),
                         Valid({{"ýaş_topary", "60+"}}), Valid({{"status", "zähmet migranty"}})}));
  REQUIRE(ok.status.ok());
  CHECK(ok.sink.cells.size() == 6);

  // Rejected rows are not cells, so repeating one is only another row error.
  RunResult rejected =
      Run(Csv(kHeaders, {Valid({{"welaýat", "Narnia"}}), Valid({{"welaýat", "Narnia"}}), Valid()}));
  REQUIRE(rejected.status.ok());
  CHECK(rejected.sink.errors.size() == 2);
  CHECK(rejected.sink.cells.size() == 1);
}

TEST_CASE("tkm-1 regions", "[tkm1]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Aşgabat", "TM-S"}, {"AŞGABAT", "TM-S"}, {"aşgabat", "TM-S"}, {Nfd("Aşgabat"), "TM-S"},
      {"Ahal", "TM-A"},    {"Balkan", "TM-B"},  {"Daşoguz", "TM-D"}, {"DAŞOGUZ", "TM-D"},
      {"Lebap", "TM-L"},   {"Mary", "TM-M"},    {" mary ", "TM-M"},
  };
  for (const auto& [name, code] : cases) {
    INFO(name);
    CHECK(CellOf(Valid({{"welaýat", name}})).region == code);
  }
  for (const char* bad :
       {"Ashgabat", "Asgabat", "Dashoguz", "TM-S", "Narnia", "", "Ahal welaýaty"}) {
    INFO(bad);
    CHECK(KindOf(Valid({{"welaýat", bad}})) == "unknown_region");
  }
}

TEST_CASE("tkm-1 region codes exist in the code lists and belong to TKM", "[tkm1]") {
  for (const char* code : {"TM-S", "TM-A", "TM-B", "TM-D", "TM-L", "TM-M"}) {
    INFO(code);
    const Region* r = CodeLists::Get().RegionByCode(code);
    REQUIRE(r != nullptr);
    CHECK(r->country == "TKM");
  }
}

TEST_CASE("tkm-1 citizenship", "[tkm1]") {
  CHECK(CellOf(Valid({{"raýatlygy", "AFG"}})).coo == "AFG");
  CHECK(CellOf(Valid({{"raýatlygy", "afg"}})).coo == "AFG");
  CHECK(CellOf(Valid({{"raýatlygy", " UZB "}})).coo == "UZB");
  CHECK(CellOf(Valid({{"raýatlygy", "XXA"}})).coo == "XXA");
  CHECK(CellOf(Valid({{"raýatlygy", "xxa"}})).coo == "XXA");
  for (const char* bad : {"UNK", "ZZZ", "AF", "004", "AFGH", "", "XXB", "ÄFG", "A-G"}) {
    INFO(bad);
    CHECK(KindOf(Valid({{"raýatlygy", bad}})) == "unknown_country");
  }
}

TEST_CASE("tkm-1 statuses", "[tkm1]") {
  CHECK(CellOf(Valid({{"status", "bosgun"}})).pop_type == "REF");
  CHECK(CellOf(Valid({{"status", "BOSGUN"}})).pop_type == "REF");
  CHECK(CellOf(Valid({{"status", "gaçybatalga gözleýän"}})).pop_type == "ASY");
  CHECK(CellOf(Valid({{"status", "Gaçybatalga  Gözleýän "}})).pop_type == "ASY");
  CHECK(CellOf(Valid({{"status", Nfd("gaçybatalga gözleýän")}})).pop_type == "ASY");
  CHECK(CellOf(Valid({{"status", "raýatlygy ýok"}})).pop_type == "STA");
  CHECK(CellOf(Valid({{"status", "RAÝATLYGY ÝOK"}})).pop_type == "STA");
  CHECK(CellOf(Valid({{"status", "zähmet migranty"}})).pop_type == "MIG");
  for (const char* bad : {"REF", "gacybatalga gozleyan", "migrant", "", "raýatlygyýok"}) {
    INFO(bad);
    CHECK(KindOf(Valid({{"status", bad}})) == "unknown_status");
  }
}

TEST_CASE("tkm-1 sex", "[tkm1]") {
  CHECK(CellOf(Valid({{"jynsy", "erkek"}})).sex == "M");
  CHECK(CellOf(Valid({{"jynsy", "ERKEK"}})).sex == "M");
  CHECK(CellOf(Valid({{"jynsy", "aýal"}})).sex == "F");
  CHECK(CellOf(Valid({{"jynsy", "AÝAL"}})).sex == "F");
  CHECK(CellOf(Valid({{"jynsy", Nfd("aýal")}})).sex == "F");
  for (const char* bad : {"M", "F", "ayal", "", "erkek aýal"}) {
    INFO(bad);
    CHECK(KindOf(Valid({{"jynsy", bad}})) == "unknown_sex");
  }
}

TEST_CASE("tkm-1 age groups", "[tkm1]") {
  for (const char* band : {"0-4", "5-11", "12-17", "18-59", "60+"}) {
    INFO(band);
    CHECK(CellOf(Valid({{"ýaş_topary", band}})).age == band);
    CHECK(CodeLists::Get().IsAgeBand(band));
  }
  CHECK(CellOf(Valid({{"ýaş_topary", "näbelli"}})).age == "unknown");
  CHECK(CellOf(Valid({{"ýaş_topary", "NÄBELLI"}})).age == "unknown");
  CHECK(CellOf(Valid({{"ýaş_topary", Nfd("näbelli")}})).age == "unknown");
  for (const char* bad : {"unknown", "0-5", "60", "60 +", "18–59", "", "nabelli", "-1"}) {
    INFO(bad);
    CHECK(KindOf(Valid({{"ýaş_topary", bad}})) == "unknown_age");
  }
}

TEST_CASE("tkm-1 row errors: first failing rule, field and row", "[tkm1]") {
  RunResult r = Run(Csv(kHeaders, {Valid(), Valid({{"welaýat", "Narnia"}, {"raýatlygy", "ZZZ"}}),
                                   Valid({{"raýatlygy", "ZZZ"}, {"status", "x"}}),
                                   Valid({{"status", "x"}, {"jynsy", "x"}}),
                                   Valid({{"jynsy", "x"}, {"ýaş_topary", "x"}}),
                                   Valid({{"ýaş_topary", "x"}}), Valid({{"welaýat", "Mary"}})}));
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.errors.size() == 5);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"welaýat", "unknown_region"},
      {"raýatlygy", "unknown_country"},
      {"status", "unknown_status"},
      {"jynsy", "unknown_sex"},
      {"ýaş_topary", "unknown_age"}};
  for (size_t i = 0; i < expected.size(); ++i) {
    CHECK(r.sink.errors[i].row == i + 2);
    CHECK(r.sink.errors[i].field == expected[i].first);
    CHECK(r.sink.errors[i].kind == expected[i].second);
    CHECK_FALSE(r.sink.errors[i].reason.empty());
  }
  REQUIRE(r.sink.cells.size() == 2);
  CHECK(r.sink.cells[0].row == 1);
  CHECK(r.sink.cells[1].row == 7);
}

TEST_CASE("tkm-1 a row with the wrong number of fields is a row error", "[tkm1]") {
  std::string text = Csv(kHeaders, {Valid()});
  text += "2019-12-31,Mary,AFG,bosgun,erkek,18-59\n";
  text += "2019-12-31,Mary,AFG,bosgun,erkek,18-59,1,extra\n";
  text += "2019-12-31,Lebap,AFG,bosgun,erkek,18-59,1\n";
  RunResult r = Run(text);
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.errors.size() == 2);
  CHECK(r.sink.errors[0].row == 2);
  CHECK(r.sink.errors[0].kind == "bad_row");
  CHECK(r.sink.errors[1].row == 3);
  CHECK(r.sink.cells.size() == 2);
  CHECK(r.sink.cells[1].row == 4);
}

TEST_CASE("tkm-1 blank lines are not rows", "[tkm1]") {
  const std::string text = kHeaderLine + "\n\n2019-12-31,Mary,AFG,bosgun,erkek,18-59,1\n\n" +
                           "2019-12-31,Ahal,AFG,bosgun,erkek,18-59,1\n";
  RunResult r = Run(text);
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.cells.size() == 2);
  CHECK(r.sink.cells[1].row == 2);
}

TEST_CASE("tkm-1 whole-file faults", "[tkm1]") {
  CHECK(Contains(FaultOf(""), "empty"));
  CHECK(Contains(FaultOf("\xEF\xBB\xBF"), "empty"));
  CHECK(FaultOf(kHeaderLine + "\n").empty());  // a header alone is a file with no rows

  // Each missing column is named.
  for (const std::string& missing : kHeaders) {
    INFO(missing);
    std::vector<std::string> headers;
    for (const std::string& h : kHeaders)
      if (h != missing) headers.push_back(h);
    const std::string msg = FaultOf(Csv(headers, {Valid()}));
    CHECK(Contains(msg, "missing required column \"" + missing + "\""));
    CHECK(Contains(msg, "line 1"));
  }
  // A header spelt without the Turkmen letters is not the column.
  CHECK(Contains(FaultOf("senesi,welayat,raýatlygy,status,jynsy,ýaş_topary,sany\n"), "welaýat"));
  CHECK(Contains(FaultOf(kHeaderLine + ",Sany\n"), "appears twice"));

  // Charsets: UTF-8 only, and bytes must be valid UTF-8.
  CHECK(Contains(FaultOf(ReadFixture("tkm-1.csv"), "rk1048"), "rk1048"));
  CHECK(Contains(FaultOf(ReadFixture("tkm-1.csv"), "windows-1251"), "utf-8"));
  CHECK(Contains(FaultOf(kHeaderLine + "\n2019-12-31,Mary,AFG,bosgun,erkek,18-59,\xFF\n"),
                 "byte offset"));
  // CSV syntax.
  CHECK(
      Contains(FaultOf(kHeaderLine + "\n2019-12-31,\"Mary,AFG,bosgun,erkek,18-59,1\n"), "line 2"));
}

TEST_CASE("tkm-1 messages never echo the file's values", "[tkm1]") {
  // The sample holds no identifiers; these canaries stand in for any text a
  // ministry might put into a code column by mistake.
  std::vector<std::string> lines = SampleLines();
  REQUIRE(lines.size() > 10);
  const std::vector<std::pair<size_t, std::string>> canaries = {{1, "Canary-Region-821214240092"},
                                                                {2, "QQQ"},
                                                                {3, "canary status 900101300007"},
                                                                {4, "canary-sex"},
                                                                {5, "canary-age"}};
  std::string text = kHeaderLine + "\n";
  for (size_t i = 0; i < lines.size(); ++i) {
    std::vector<std::string> f = SplitComma(lines[i]);
    if (i < canaries.size() + 1 && i >= 1) f[canaries[i - 1].first] = canaries[i - 1].second;
    for (size_t j = 0; j < f.size(); ++j) text += (j ? "," : "") + f[j];
    text += "\n";
  }
  RunResult r = Run(text);
  REQUIRE(r.status.ok());
  REQUIRE(r.sink.errors.size() == canaries.size());
  for (const RowError& e : r.sink.errors) {
    for (const auto& [column, canary] : canaries) {
      CHECK_FALSE(Contains(e.reason, canary));
      CHECK_FALSE(Contains(e.field, canary));
    }
  }
  // Whole-file faults: the offending text is not echoed either.
  CHECK_FALSE(
      Contains(FaultOf(Csv(kHeaders, {Valid({{"sany", "821214240092"}})})), "821214240092"));
  CHECK_FALSE(
      Contains(FaultOf(Csv(kHeaders, {Valid({{"senesi", "821214240092"}})})), "821214240092"));
}

TEST_CASE("tkm-1 a failing sink stops the run with its status", "[tkm1]") {
  const AdapterInfo* info = AdapterRegistry::Global().Find("tkm-1");
  std::unique_ptr<Adapter> adapter = info->create();
  StringSource source(ReadFixture("tkm-1.csv"));
  TestSink sink;
  sink.fail_after_cells = 3;
  Status s = adapter->Run(source, AdapterContext{"TKM", kRef, "utf-8"}, sink);
  CHECK(s.code() == Code::kInternal);
  CHECK(sink.cells.size() == 4);
}

TEST_CASE("tkm-1 every distinct cell of the code lists is accepted once", "[tkm1]") {
  // The duplicate set's worst case: every combination of the key columns.
  std::vector<std::string> countries;
  for (const Country& c : CodeLists::Get().countries())
    if (c.alpha3 != "UNK") countries.push_back(c.alpha3);
  std::string text = kHeaderLine + "\n";
  size_t n = 0;
  for (const char* region : {"Aşgabat", "Ahal", "Balkan", "Daşoguz", "Lebap", "Mary"})
    for (const std::string& coo : countries)
      for (const char* status : {"bosgun", "raýatlygy ýok"})
        for (const char* sex : {"erkek", "aýal"})
          for (const char* age : {"0-4", "näbelli"}) {
            text += std::string("2019-12-31,") + region + "," + coo + "," + status + "," + sex +
                    "," + age + ",1\n";
            ++n;
          }
  RunResult r = Run(text);
  REQUIRE(r.status.ok());
  CHECK(r.sink.errors.empty());
  CHECK(r.sink.cells.size() == n);
}

TEST_CASE("tkm-1 NewAdapter works without the registry", "[tkm1]") {
  std::unique_ptr<Adapter> adapter = tkm1::NewAdapter();
  StringSource source(Csv(kHeaders, {Valid()}));
  TestSink sink;
  REQUIRE(adapter->Run(source, AdapterContext{"TKM", kRef, "utf-8"}, sink).ok());
  REQUIRE(sink.cells.size() == 1);
  const CellRecord& c = sink.cells[0].cell;
  CHECK(c.pop_type == "REF");
  CHECK(c.coo == "AFG");
  CHECK(c.sex == "M");
  CHECK(c.age == "18-59");
  CHECK(c.region == "TM-A");
  CHECK(c.count == 3);
}

}  // namespace
}  // namespace gw
