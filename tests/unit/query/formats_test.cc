#include <catch2/catch.hpp>

#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "gateway/query/formats.h"

namespace gw {
namespace {

// Ordered, so that observations keep the order of the cells they came from.
using json = nlohmann::ordered_json;

constexpr const char* kHeader =
    "STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA,ORIGIN,POP_TYPE,SEX,AGE,ADMIN1,TIME_PERIOD,"
    "OBS_VALUE,OBS_STATUS,CONF_STATUS";
constexpr const char* kRowPrefix = "dataflow,CAMG:DF_MIGRATION_STOCKS(1.0.0),I,";
const std::vector<std::string> kDimIds = {"REF_AREA", "ORIGIN", "POP_TYPE", "SEX",
                                          "AGE",      "ADMIN1", "TIME_PERIOD"};

AggregateResult ByCoaPopTypeCoo() {
  AggregateResult r;
  r.ref_date = "2015-06-30";
  r.by = {Dim::kCoa, Dim::kPopType, Dim::kCoo};
  r.cells = {ResultCell{{"KAZ", "REF", "AFG"}, 17, 'A'},
             ResultCell{{"KAZ", "ASY", "XXA"}, 12, 'E'},
             ResultCell{{"KGZ", "REF", "UNK"}, std::nullopt, 'Q'}};
  return r;
}

AggregateResult BySexAgeRegion() {
  AggregateResult r;
  r.ref_date = "2015-06-30";
  r.by = {Dim::kSex, Dim::kAge, Dim::kRegion};
  r.cells = {ResultCell{{"F", "0-4", "KZ-75"}, 6, 'A'},
             ResultCell{{"M", "5-11", "KZ-75"}, 7, 'A'},
             ResultCell{{"F", "12-17", "KG-GB"}, 8, 'E'},
             ResultCell{{"M", "18-59", "KG-GB"}, 9, 'A'},
             ResultCell{{"F", "60+", "XX-99"}, 10, 'A'},
             // A suppressed cell that (wrongly) still holds a number: it must not leave.
             ResultCell{{"M", "unknown", "KZ-75"}, 3, 'Q'}};
  return r;
}

AggregateResult TotalsByCoaSex() {
  AggregateResult r;
  r.ref_date = "2015-06-30";
  r.by = {Dim::kCoa, Dim::kSex};
  r.totals = true;
  r.cells = {ResultCell{{"KAZ", "F"}, 10, 'A'},
             ResultCell{{"KAZ", "_T"}, 25, 'E'},
             ResultCell{{"_T", "M"}, std::nullopt, 'Q'},
             ResultCell{{"_T", "_T"}, 40, 'A'}};
  return r;
}

AggregateResult GrandTotal() {
  AggregateResult r;
  r.ref_date = "2015-06-30";
  r.cells = {ResultCell{{}, 100, 'A'}};
  return r;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find("\r\n", pos);
    REQUIRE(end != std::string::npos);  // every line, the last too, ends in CRLF
    out.push_back(text.substr(pos, end - pos));
    pos = end + 2;
  }
  return out;
}

std::vector<std::string> Columns(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    out.push_back(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

json Parse(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

const json& ObservationDims(const json& msg) {
  return msg["data"]["structures"][0]["dimensions"]["observation"];
}

const json& Attribute(const json& msg, const std::string& id) {
  for (const auto& a : msg["data"]["structures"][0]["attributes"]["observation"])
    if (a["id"] == id) return a;
  static const json kNone;
  FAIL("no attribute " << id);
  return kNone;
}

// The decoded observation: the seven SDMX codes, the value, the two statuses.
struct Decoded {
  std::vector<std::string> key;
  json value;
  std::string obs_status;
  std::string conf_status;
};

std::vector<Decoded> DecodeObservations(const json& msg) {
  const json& dims = ObservationDims(msg);
  const json& obs_status = Attribute(msg, "OBS_STATUS")["values"];
  const json& conf_status = Attribute(msg, "CONF_STATUS")["values"];
  std::vector<Decoded> out;
  for (const auto& [key, row] : msg["data"]["dataSets"][0]["observations"].items()) {
    Decoded d;
    size_t start = 0;
    for (size_t k = 0; k < 7; ++k) {
      size_t colon = key.find(':', start);
      REQUIRE((k == 6) == (colon == std::string::npos));  // exactly seven indices
      size_t index = std::stoul(key.substr(start, colon - start));
      REQUIRE(index < dims[k]["values"].size());
      d.key.push_back(dims[k]["values"][index]["id"].get<std::string>());
      start = colon + 1;
    }
    REQUIRE(row.size() == 3);
    d.value = row[0];
    d.obs_status = obs_status[row[1].get<size_t>()]["id"].get<std::string>();
    d.conf_status = conf_status[row[2].get<size_t>()]["id"].get<std::string>();
    out.push_back(std::move(d));
  }
  return out;
}

std::map<std::string, std::string> ValueNames(const json& dim) {
  std::map<std::string, std::string> out;
  for (const auto& v : dim["values"]) out[v["id"].get<std::string>()] = v["name"].get<std::string>();
  return out;
}

SdmxMessageMeta FixedMeta() { return {"CAMG-TEST-1", "2015-07-01T09:30:00Z"}; }

}  // namespace

TEST_CASE("format names parse and print", "[formats]") {
  CHECK(ParseOutputFormat("json") == OutputFormat::kJson);
  CHECK(ParseOutputFormat("csv") == OutputFormat::kCsv);
  CHECK(ParseOutputFormat("sdmx-csv") == OutputFormat::kSdmxCsv);
  CHECK(ParseOutputFormat("sdmx-json") == OutputFormat::kSdmxJson);
  CHECK_FALSE(ParseOutputFormat("xml"));
  CHECK_FALSE(ParseOutputFormat("JSON"));
  CHECK_FALSE(ParseOutputFormat("sdmx"));
  CHECK_FALSE(ParseOutputFormat(""));
  for (auto f : {OutputFormat::kJson, OutputFormat::kCsv, OutputFormat::kSdmxCsv, OutputFormat::kSdmxJson}) {
    CHECK(ParseOutputFormat(OutputFormatName(f)) == f);
  }
  CHECK(std::string(OutputFormatName(OutputFormat::kSdmxCsv)) == "sdmx-csv");
}

TEST_CASE("the Accept header picks a format by q-value", "[formats]") {
  using F = OutputFormat;
  using Want = std::optional<OutputFormat>;
  const std::vector<std::pair<std::string, Want>> cases = {
      {"", std::nullopt},
      {"text/csv", F::kCsv},
      {"Text/CSV; charset=utf-8", F::kCsv},
      {"application/vnd.sdmx.data+csv; version=2.0.0", F::kSdmxCsv},
      {"application/vnd.sdmx.data+csv;version=1.0.0", F::kSdmxCsv},
      {"application/vnd.sdmx.data+json; version=2.0.0", F::kSdmxJson},
      {"application/json", std::nullopt},
      {"*/*", std::nullopt},
      {"application/xml", std::nullopt},
      {"image/png, text/html", std::nullopt},
      // The highest q wins, whatever the order.
      {"text/csv;q=0.5, application/vnd.sdmx.data+json;q=0.9", F::kSdmxJson},
      {"application/json, text/csv;q=0.5", std::nullopt},
      {"text/csv;q=0.5, application/json;q=0.4", F::kCsv},
      {"text/csv ; Q=0.8 , application/vnd.sdmx.data+json ; q=0.81", F::kSdmxJson},
      {"text/csv;q=0.001", F::kCsv},
      // q=0 excludes.
      {"text/csv;q=0", std::nullopt},
      {"text/csv;q=0.000, application/vnd.sdmx.data+csv;q=0.1", F::kSdmxCsv},
      {"*/*;q=0, text/csv;q=0.2", F::kCsv},
      // Equal q: a named type beats a wildcard, then the first listed wins.
      {"*/*, text/csv", F::kCsv},
      {"text/csv, application/vnd.sdmx.data+csv", F::kCsv},
      {"application/vnd.sdmx.data+csv, text/csv", F::kSdmxCsv},
      {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", std::nullopt},
      // Malformed weights drop the element, not the header.
      {"text/csv;q=abc, application/vnd.sdmx.data+json;q=0.1", F::kSdmxJson},
      {"text/csv;q=1.5", std::nullopt},
      {"text/csv;q=0.1234", std::nullopt},
      // A comma inside a quoted parameter does not split the element.
      {"application/vnd.sdmx.data+csv; version=\"2.0.0,x\"; q=0.7, text/csv;q=0.6", F::kSdmxCsv},
      {",, text/csv ,", F::kCsv},
  };
  for (const auto& [header, want] : cases) {
    INFO("Accept: " << header);
    CHECK(FormatFromAccept(header) == want);
  }
}

TEST_CASE("SDMX-CSV: one row per cell, every dimension a column", "[formats]") {
  const std::string csv = ToSdmxCsv(ByCoaPopTypeCoo());
  CHECK(csv == std::string(kHeader) + "\r\n" +                                 //
                   kRowPrefix + "KAZ,AFG,REF,_T,_T,_T,2015-06-30,17,A,F\r\n" +  //
                   kRowPrefix + "KAZ,XXA,ASY,_T,_T,_T,2015-06-30,12,E,F\r\n" +  //
                   kRowPrefix + "KGZ,UNK,REF,_T,_T,_T,2015-06-30,,O,C\r\n");
  auto lines = Lines(csv);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == kHeader);
  for (const auto& line : lines) CHECK(Columns(line).size() == 13);
  auto suppressed = Columns(lines[3]);
  CHECK(suppressed[3] == "KGZ");    // REF_AREA from coa
  CHECK(suppressed[10].empty());    // OBS_VALUE
  CHECK(suppressed[11] == "O");     // OBS_STATUS: missing
  CHECK(suppressed[12] == "C");     // CONF_STATUS: confidential
}

TEST_CASE("SDMX-CSV maps sex and age to SDMX codes and never shows a suppressed number", "[formats]") {
  auto lines = Lines(ToSdmxCsv(BySexAgeRegion()));
  REQUIRE(lines.size() == 7);
  CHECK(lines[1] == std::string(kRowPrefix) + "_T,_T,_T,F,Y0T4,KZ-75,2015-06-30,6,A,F");
  CHECK(lines[2] == std::string(kRowPrefix) + "_T,_T,_T,M,Y5T11,KZ-75,2015-06-30,7,A,F");
  CHECK(lines[3] == std::string(kRowPrefix) + "_T,_T,_T,F,Y12T17,KG-GB,2015-06-30,8,E,F");
  CHECK(lines[4] == std::string(kRowPrefix) + "_T,_T,_T,M,Y18T59,KG-GB,2015-06-30,9,A,F");
  CHECK(lines[5] == std::string(kRowPrefix) + "_T,_T,_T,F,Y_GE60,XX-99,2015-06-30,10,A,F");
  CHECK(lines[6] == std::string(kRowPrefix) + "_T,_T,_T,M,_U,KZ-75,2015-06-30,,O,C");
}

TEST_CASE("SDMX-CSV: totals and the grand total are _T", "[formats]") {
  auto lines = Lines(ToSdmxCsv(TotalsByCoaSex()));
  REQUIRE(lines.size() == 5);
  CHECK(lines[1] == std::string(kRowPrefix) + "KAZ,_T,_T,F,_T,_T,2015-06-30,10,A,F");
  CHECK(lines[2] == std::string(kRowPrefix) + "KAZ,_T,_T,_T,_T,_T,2015-06-30,25,E,F");
  CHECK(lines[3] == std::string(kRowPrefix) + "_T,_T,_T,M,_T,_T,2015-06-30,,O,C");
  CHECK(lines[4] == std::string(kRowPrefix) + "_T,_T,_T,_T,_T,_T,2015-06-30,40,A,F");

  CHECK(ToSdmxCsv(GrandTotal()) ==
        std::string(kHeader) + "\r\n" + kRowPrefix + "_T,_T,_T,_T,_T,_T,2015-06-30,100,A,F\r\n");

  AggregateResult empty = ByCoaPopTypeCoo();
  empty.cells.clear();
  CHECK(ToSdmxCsv(empty) == std::string(kHeader) + "\r\n");
}

TEST_CASE("SDMX-CSV quotes a field that needs it (RFC 4180)", "[formats]") {
  AggregateResult r;
  r.ref_date = "2015-06-30";
  r.by = {Dim::kCoo};
  r.cells = {ResultCell{{"A,B"}, 1, 'A'}, ResultCell{{"X\"Y"}, 2, 'A'}};
  auto lines = Lines(ToSdmxCsv(r));
  REQUIRE(lines.size() == 3);
  CHECK(lines[1] == std::string(kRowPrefix) + "_T,\"A,B\",_T,_T,_T,_T,2015-06-30,1,A,F");
  CHECK(lines[2] == std::string(kRowPrefix) + "_T,\"X\"\"Y\",_T,_T,_T,_T,2015-06-30,2,A,F");
}

TEST_CASE("SDMX-JSON: message, structure and observations", "[formats]") {
  const AggregateResult result = ByCoaPopTypeCoo();
  json msg = Parse(ToSdmxJson(result, FixedMeta()));

  const json& meta = msg["meta"];
  CHECK(meta["schema"] == "https://json.sdmx.org/2.0.0/sdmx-json-data-schema.json");
  CHECK(meta["id"] == "CAMG-TEST-1");
  CHECK(meta["prepared"] == "2015-07-01T09:30:00Z");
  CHECK(meta["sender"]["id"] == "CAMG");

  REQUIRE(msg["data"]["structures"].size() == 1);
  const json& structure = msg["data"]["structures"][0];
  CHECK(structure["links"][0]["rel"] == "dataflow");
  CHECK(structure["links"][0]["urn"] ==
        "urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=CAMG:DF_MIGRATION_STOCKS(1.0.0)");
  const json& dims = ObservationDims(msg);
  REQUIRE(dims.size() == 7);
  for (size_t k = 0; k < 7; ++k) {
    CHECK(dims[k]["id"] == kDimIds[k]);
    CHECK(dims[k]["keyPosition"] == k);
    CHECK_FALSE(dims[k]["name"].get<std::string>().empty());
  }
  CHECK(structure["dimensions"]["dataSet"].empty());
  CHECK(structure["dimensions"]["series"].empty());
  CHECK(structure["measures"]["observation"][0]["id"] == "OBS_VALUE");

  // Values: the codes used, in order of first appearance, named from the code lists.
  CHECK(dims[0]["values"] == json::parse(R"([{"id":"KAZ","name":"Kazakhstan"},{"id":"KGZ","name":"Kyrgyzstan"}])"));
  CHECK(dims[1]["values"] ==
        json::parse(R"([{"id":"AFG","name":"Afghanistan"},{"id":"XXA","name":"Stateless"},{"id":"UNK","name":"Unknown"}])"));
  CHECK(dims[2]["values"] ==
        json::parse(R"([{"id":"REF","name":"Refugees"},{"id":"ASY","name":"Asylum-seekers"}])"));
  for (size_t k : {3, 4, 5}) CHECK(dims[k]["values"] == json::parse(R"([{"id":"_T","name":"Total"}])"));
  REQUIRE(dims[6]["values"].size() == 1);
  CHECK(dims[6]["values"][0]["id"] == "2015-06-30");
  CHECK(dims[6]["values"][0]["start"] == "2015-06-30T00:00:00Z");

  const json& obs_status = Attribute(msg, "OBS_STATUS");
  const json& conf_status = Attribute(msg, "CONF_STATUS");
  CHECK(obs_status["relationship"] == json::parse(R"({"observation":{}})"));
  CHECK(conf_status["relationship"] == json::parse(R"({"observation":{}})"));
  CHECK(obs_status["values"] == json::parse(
                                    R"([{"id":"A","name":"Normal value"},{"id":"E","name":"Estimated value"},)"
                                    R"({"id":"O","name":"Missing value"}])"));
  CHECK(conf_status["values"] ==
        json::parse(R"([{"id":"F","name":"Free"},{"id":"C","name":"Confidential statistical information"}])"));

  REQUIRE(msg["data"]["dataSets"].size() == 1);
  const json& data_set = msg["data"]["dataSets"][0];
  CHECK(data_set["structure"] == 0);
  CHECK(data_set["action"] == "Information");
  CHECK(data_set["observations"] == json::parse(R"({"0:0:0:0:0:0:0": [17, 0, 0],
                                                    "0:1:1:0:0:0:0": [12, 1, 0],
                                                    "1:2:0:0:0:0:0": [null, 2, 1]})"));
}

TEST_CASE("SDMX-JSON observations decode back to the original cells", "[formats]") {
  // (codes of the broken-down dimensions, value, status) -> SDMX (key, value, OBS_STATUS, CONF_STATUS)
  struct Case {
    AggregateResult result;
    std::vector<size_t> key_positions;  // SDMX key position of each dimension in `by`
  };
  const std::vector<Case> cases = {{ByCoaPopTypeCoo(), {0, 2, 1}},
                                   {TotalsByCoaSex(), {0, 3}},
                                   {GrandTotal(), {}}};
  for (const auto& c : cases) {
    json msg = Parse(ToSdmxJson(c.result, FixedMeta()));
    std::vector<Decoded> decoded = DecodeObservations(msg);
    REQUIRE(decoded.size() == c.result.cells.size());
    for (size_t i = 0; i < decoded.size(); ++i) {
      const ResultCell& cell = c.result.cells[i];
      const Decoded& d = decoded[i];
      std::vector<std::string> want(7, "_T");
      want[6] = "2015-06-30";
      for (size_t b = 0; b < c.key_positions.size(); ++b) want[c.key_positions[b]] = cell.values[b];
      CHECK(d.key == want);
      if (cell.status == 'Q') {
        CHECK(d.value.is_null());
        CHECK(d.obs_status == "O");
        CHECK(d.conf_status == "C");
      } else {
        CHECK(d.value == *cell.value);
        CHECK(d.obs_status == std::string(1, cell.status));
        CHECK(d.conf_status == "F");
      }
    }
  }
}

TEST_CASE("SDMX-JSON names sex, age and regions from the code lists", "[formats]") {
  json msg = Parse(ToSdmxJson(BySexAgeRegion(), FixedMeta()));
  const json& dims = ObservationDims(msg);
  CHECK(ValueNames(dims[3]) == std::map<std::string, std::string>{{"F", "Female"}, {"M", "Male"}});
  CHECK(ValueNames(dims[4]) == std::map<std::string, std::string>{{"Y0T4", "0 to 4 years"},
                                                                  {"Y5T11", "5 to 11 years"},
                                                                  {"Y12T17", "12 to 17 years"},
                                                                  {"Y18T59", "18 to 59 years"},
                                                                  {"Y_GE60", "60 years or over"},
                                                                  {"_U", "Age unknown"}});
  // An unknown code is named by itself.
  CHECK(ValueNames(dims[5]) == std::map<std::string, std::string>{
                                   {"KZ-75", "Almaty"}, {"KG-GB", "Bishkek Shaary"}, {"XX-99", "XX-99"}});
  std::vector<Decoded> decoded = DecodeObservations(msg);
  REQUIRE(decoded.size() == 6);
  CHECK(decoded[5].key[4] == "_U");
  CHECK(decoded[5].value.is_null());  // the suppressed cell's 3 never leaves
  CHECK(decoded[5].obs_status == "O");
  CHECK(decoded[5].conf_status == "C");
}

TEST_CASE("SDMX-JSON totals, grand total and an empty answer", "[formats]") {
  json totals = Parse(ToSdmxJson(TotalsByCoaSex(), FixedMeta()));
  CHECK(ObservationDims(totals)[0]["values"] ==
        json::parse(R"([{"id":"KAZ","name":"Kazakhstan"},{"id":"_T","name":"Total"}])"));
  CHECK(ObservationDims(totals)[3]["values"] ==
        json::parse(R"([{"id":"F","name":"Female"},{"id":"_T","name":"Total"},{"id":"M","name":"Male"}])"));

  json grand = Parse(ToSdmxJson(GrandTotal(), FixedMeta()));
  CHECK(grand["data"]["dataSets"][0]["observations"] == json::parse(R"({"0:0:0:0:0:0:0": [100, 0, 0]})"));
  for (size_t k = 0; k < 6; ++k) {
    CHECK(ObservationDims(grand)[k]["values"] == json::parse(R"([{"id":"_T","name":"Total"}])"));
  }

  AggregateResult empty = ByCoaPopTypeCoo();
  empty.cells.clear();
  json none = Parse(ToSdmxJson(empty, FixedMeta()));
  CHECK(none["data"]["dataSets"][0]["observations"] == json::object());
  CHECK(ObservationDims(none)[0]["values"] == json::array());  // coa is broken down: no codes used
  CHECK(ObservationDims(none)[3]["values"] == json::parse(R"([{"id":"_T","name":"Total"}])"));
  CHECK(ObservationDims(none)[6]["values"][0]["id"] == "2015-06-30");
}

TEST_CASE("SDMX-JSON meta: a fresh id and the current UTC time", "[formats]") {
  const AggregateResult result = GrandTotal();
  json a = Parse(ToSdmxJson(result));
  json b = Parse(ToSdmxJson(result));
  const std::regex id(R"(CAMG-\d{8}T\d{6}Z-[0-9a-f]{16})");
  const std::regex prepared(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
  CHECK(std::regex_match(a["meta"]["id"].get<std::string>(), id));
  CHECK(std::regex_match(a["meta"]["prepared"].get<std::string>(), prepared));
  CHECK(a["meta"]["id"] != b["meta"]["id"]);
  // Apart from meta, the message is a function of the answer.
  CHECK(a["data"] == b["data"]);
}

TEST_CASE("Render gives each format's body and Content-Type", "[formats]") {
  const AggregateResult result = ByCoaPopTypeCoo();
  RenderedBody j = Render(result, OutputFormat::kJson);
  CHECK(j.content_type == "application/json");
  CHECK(j.body == result.ToJson());
  RenderedBody c = Render(result, OutputFormat::kCsv);
  CHECK(c.content_type == "text/csv; charset=utf-8");
  CHECK(c.body == result.ToCsv());
  RenderedBody sc = Render(result, OutputFormat::kSdmxCsv);
  CHECK(sc.content_type == "application/vnd.sdmx.data+csv; version=2.0.0; charset=utf-8");
  CHECK(sc.body == ToSdmxCsv(result));
  RenderedBody sj = Render(result, OutputFormat::kSdmxJson);
  CHECK(sj.content_type == "application/vnd.sdmx.data+json; version=2.0.0; charset=utf-8");
  json msg = Parse(sj.body);
  CHECK(msg["data"]["dataSets"][0]["observations"].size() == 3);
}

}  // namespace gw
