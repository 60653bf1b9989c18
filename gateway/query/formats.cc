#include "gateway/query/formats.h"

#include <array>
#include <ctime>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/common/date.h"
#include "gateway/common/weighted_list.h"
#include "gateway/crypto/keys.h"
#include "gateway/schema/codelists.h"

namespace gw {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kSdmxTotal = "_T";
constexpr const char* kSdmxJsonSchema = "https://json.sdmx.org/2.0.0/sdmx-json-data-schema.json";
constexpr const char* kSenderName = "Central Asia migration-data gateway";

// The dataflow's dimensions in key order (keyPosition = index). TIME_PERIOD
// has no gateway dimension: it is the answer's reference date.
struct SdmxDimension {
  const char* id;
  const char* name;
  const char* role;  // SDMX cross-domain concept that visualisers look for, or nullptr
  std::optional<Dim> source;
};
constexpr std::array<SdmxDimension, 7> kSdmxDimensions = {{
    {"REF_AREA", "Reference area (country of asylum)", "REF_AREA", Dim::kCoa},
    {"ORIGIN", "Country of origin", nullptr, Dim::kCoo},
    {"POP_TYPE", "Population type", nullptr, Dim::kPopType},
    {"SEX", "Sex", nullptr, Dim::kSex},
    {"AGE", "Age", nullptr, Dim::kAge},
    {"ADMIN1", "First-level administrative division (ISO 3166-2)", nullptr, Dim::kRegion},
    {"TIME_PERIOD", "Time period (reference date)", "TIME_PERIOD", std::nullopt},
}};
constexpr size_t kKeySize = kSdmxDimensions.size();

// Codes from the SDMX global code lists CL_OBS_STATUS and CL_CONF_STATUS.
struct SdmxCode {
  const char* id;
  const char* name;
};
constexpr SdmxCode kObsNormal = {"A", "Normal value"};
constexpr SdmxCode kObsEstimated = {"E", "Estimated value"};
constexpr SdmxCode kObsMissing = {"O", "Missing value"};
constexpr SdmxCode kConfFree = {"F", "Free"};
constexpr SdmxCode kConfConfidential = {"C", "Confidential statistical information"};

struct KeyValue {
  std::string id;    // SDMX code
  std::string name;  // from the code lists; the code itself when unknown
};

// One cell as an SDMX observation.
struct SdmxObservation {
  std::array<KeyValue, kKeySize> key;
  std::optional<int64_t> value;  // never set for a suppressed cell
  SdmxCode obs_status;
  SdmxCode conf_status;
};

const CodeEntry* FindEntry(const std::vector<CodeEntry>& list, std::string_view code) {
  for (const auto& e : list)
    if (e.code == code) return &e;
  return nullptr;
}

// Sex and age have their own SDMX codes (the `sdmx` column of sex.tsv and
// age_bands.tsv); every other gateway code already is the SDMX code.
KeyValue ToKeyValue(Dim dim, const std::string& code) {
  if (code == kSdmxTotal) return {code, "Total"};
  const CodeLists& lists = CodeLists::Get();
  switch (dim) {
    case Dim::kCoa:
    case Dim::kCoo:
      if (const Country* c = lists.CountryByAlpha3(code)) return {code, c->name};
      break;
    case Dim::kPopType:
      if (const CodeEntry* e = FindEntry(lists.pop_types(), code)) return {code, e->name};
      break;
    case Dim::kSex:
    case Dim::kAge:
      if (const CodeEntry* e = FindEntry(dim == Dim::kSex ? lists.sexes() : lists.age_bands(), code)) {
        std::string sdmx = e->Extra("sdmx");
        return {sdmx.empty() ? code : std::move(sdmx), e->name};
      }
      break;
    case Dim::kRegion:
      if (const Region* r = lists.RegionByCode(code)) return {code, r->name};
      break;
  }
  return {code, code};
}

// A cell's status as SDMX attributes. Anything that is not plainly 'A' or 'E'
// with a number is published as missing, and as confidential unless it is an
// 'A'/'E' cell that merely lacks a number: a suppressed number must not leave.
SdmxObservation ToObservation(const AggregateResult& result, const ResultCell& cell,
                              const std::array<std::optional<size_t>, kDimCount>& position) {
  SdmxObservation obs;
  for (size_t k = 0; k < kKeySize; ++k) {
    const SdmxDimension& d = kSdmxDimensions[k];
    if (!d.source) {
      obs.key[k] = {result.ref_date, result.ref_date};
      continue;
    }
    const auto& at = position[DimIndex(*d.source)];
    if (!at) {
      obs.key[k] = {std::string(kSdmxTotal), "Total"};  // summed over: not broken down
    } else if (*at < cell.values.size()) {
      obs.key[k] = ToKeyValue(*d.source, cell.values[*at]);
    } else {
      obs.key[k] = {"", ""};  // a malformed cell; never produced by QueryEngine
    }
  }
  const bool publishable = cell.status == 'A' || cell.status == 'E';
  obs.conf_status = publishable ? kConfFree : kConfConfidential;
  if (publishable && cell.value) {
    obs.value = cell.value;
    obs.obs_status = cell.status == 'A' ? kObsNormal : kObsEstimated;
  } else {
    obs.obs_status = kObsMissing;
  }
  return obs;
}

std::vector<SdmxObservation> ToObservations(const AggregateResult& result) {
  std::array<std::optional<size_t>, kDimCount> position{};
  for (size_t i = 0; i < result.by.size(); ++i) position[DimIndex(result.by[i])] = i;
  std::vector<SdmxObservation> out;
  out.reserve(result.cells.size());
  for (const auto& cell : result.cells) out.push_back(ToObservation(result, cell, position));
  return out;
}

// RFC 4180: a field with a comma, a double quote or a line break is quoted,
// and its double quotes are doubled.
std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string DataflowUrn() {
  return "urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=" + SdmxStructureId();
}

// The values used in the message for one component, each once, in the order
// they first appear; observations refer to them by index.
class ValueList {
 public:
  size_t IndexOf(const std::string& id, const std::string& name) {
    auto [it, added] = index_.try_emplace(id, values_.size());
    if (added) values_.push_back({id, name});
    return it->second;
  }
  const std::vector<KeyValue>& values() const { return values_; }

 private:
  std::vector<KeyValue> values_;
  std::unordered_map<std::string, size_t> index_;
};

Json ValuesJson(const std::vector<KeyValue>& values) {
  Json out = Json::array();
  for (const auto& v : values) out.push_back({{"id", v.id}, {"name", v.name}});
  return out;
}

}  // namespace

std::optional<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "json") return OutputFormat::kJson;
  if (name == "csv") return OutputFormat::kCsv;
  if (name == "sdmx-csv") return OutputFormat::kSdmxCsv;
  if (name == "sdmx-json") return OutputFormat::kSdmxJson;
  return std::nullopt;
}

const char* OutputFormatName(OutputFormat format) {
  switch (format) {
    case OutputFormat::kJson: return "json";
    case OutputFormat::kCsv: return "csv";
    case OutputFormat::kSdmxCsv: return "sdmx-csv";
    case OutputFormat::kSdmxJson: return "sdmx-json";
  }
  return "json";
}

std::optional<OutputFormat> FormatFromAccept(std::string_view accept) {
  struct Candidate {
    std::optional<OutputFormat> format;  // nullopt: the caller's default (JSON)
    int quality = 1000;
    bool wildcard = false;
  };
  std::optional<Candidate> best;
  for (const WeightedItem& item : ParseWeightedList(accept)) {
    const std::string& media = item.value;
    Candidate c;
    c.quality = item.weight;
    if (media == "text/csv") {
      c.format = OutputFormat::kCsv;
    } else if (media == "application/vnd.sdmx.data+csv") {
      c.format = OutputFormat::kSdmxCsv;
    } else if (media == "application/vnd.sdmx.data+json") {
      c.format = OutputFormat::kSdmxJson;
    } else if (media == "application/json") {
      // the default, named
    } else if (media == "*/*" || media == "application/*") {
      c.wildcard = true;
    } else {
      continue;  // a type we do not serve
    }
    if (c.quality == 0) continue;
    // Strictly better only, so at equal rank the element listed first stays.
    if (!best || c.quality > best->quality ||
        (c.quality == best->quality && best->wildcard && !c.wildcard)) {
      best = c;
    }
  }
  if (!best) return std::nullopt;
  return best->format;
}

RenderedBody Render(const AggregateResult& result, OutputFormat format) {
  switch (format) {
    case OutputFormat::kCsv:
      return {"text/csv; charset=utf-8", result.ToCsv(), {}};
    case OutputFormat::kSdmxCsv:
      return {"application/vnd.sdmx.data+csv; version=2.0.0; charset=utf-8", ToSdmxCsv(result), {}};
    case OutputFormat::kSdmxJson:
      return {"application/vnd.sdmx.data+json; version=2.0.0; charset=utf-8", ToSdmxJson(result), {}};
    case OutputFormat::kJson:
      break;
  }
  AggregateResult::RenderedJson json = result.RenderJson();
  return {"application/json", std::move(json.body), std::move(json.sha256)};
}

std::string SdmxStructureId() {
  return std::string(kSdmxAgency) + ":" + std::string(kSdmxDataflowId) + "(" +
         std::string(kSdmxDataflowVersion) + ")";
}

std::string ToSdmxCsv(const AggregateResult& result) {
  std::string out = "STRUCTURE,STRUCTURE_ID,ACTION";
  for (const auto& d : kSdmxDimensions) out += std::string(",") + d.id;
  out += ",OBS_VALUE,OBS_STATUS,CONF_STATUS\r\n";
  // ACTION "I" (information): consumers load it as an append, never a delete.
  const std::string prefix = "dataflow," + CsvField(SdmxStructureId()) + ",I";
  for (const auto& obs : ToObservations(result)) {
    out += prefix;
    for (const auto& kv : obs.key) out += "," + CsvField(kv.id);
    out += "," + (obs.value ? std::to_string(*obs.value) : std::string());
    out += "," + CsvField(obs.obs_status.id) + "," + CsvField(obs.conf_status.id) + "\r\n";
  }
  return out;
}

std::string ToSdmxJson(const AggregateResult& result) {
  const std::string now = UtcNowIso();
  std::string stamp;
  for (char c : now)
    if (c != '-' && c != ':') stamp += c;  // 20150701T093000Z: the id allows no ':'
  return ToSdmxJson(result, {"CAMG-" + stamp + "-" + ToHex(RandomBytes(8)), now});
}

std::string ToSdmxJson(const AggregateResult& result, const SdmxMessageMeta& meta) {
  const std::vector<SdmxObservation> observations = ToObservations(result);

  std::array<ValueList, kKeySize> dim_values;
  // A dimension the answer does not break down, and the time period, have one
  // value whether or not there are cells, so even an empty answer names them.
  std::array<bool, kDimCount> broken_down{};
  for (Dim d : result.by) broken_down[DimIndex(d)] = true;
  for (size_t k = 0; k < kKeySize; ++k) {
    const auto& source = kSdmxDimensions[k].source;
    if (!source) dim_values[k].IndexOf(result.ref_date, result.ref_date);
    else if (!broken_down[DimIndex(*source)]) dim_values[k].IndexOf(std::string(kSdmxTotal), "Total");
  }
  ValueList obs_status_values, conf_status_values;

  Json obs_json = Json::object();
  for (const auto& obs : observations) {
    std::string key;
    for (size_t k = 0; k < kKeySize; ++k) {
      if (k > 0) key += ':';
      key += std::to_string(dim_values[k].IndexOf(obs.key[k].id, obs.key[k].name));
    }
    Json row = Json::array();
    row.push_back(obs.value ? Json(*obs.value) : Json(nullptr));
    row.push_back(obs_status_values.IndexOf(obs.obs_status.id, obs.obs_status.name));
    row.push_back(conf_status_values.IndexOf(obs.conf_status.id, obs.conf_status.name));
    obs_json[key] = std::move(row);
  }

  const Json dataflow_link = Json::array({{{"rel", "dataflow"}, {"urn", DataflowUrn()}}});

  Json dims = Json::array();
  for (size_t k = 0; k < kKeySize; ++k) {
    const SdmxDimension& d = kSdmxDimensions[k];
    Json dim = {{"id", d.id}, {"name", d.name}, {"keyPosition", k}};
    if (d.role != nullptr) dim["roles"] = Json::array({d.role});
    Json values = ValuesJson(dim_values[k].values());
    if (!d.source) {
      // The period a GregorianDay covers, for time axes.
      if (ParseIsoDate(result.ref_date)) {
        for (auto& v : values) {
          v["start"] = result.ref_date + "T00:00:00Z";
          v["end"] = result.ref_date + "T23:59:59Z";
        }
      }
    }
    dim["values"] = std::move(values);
    dims.push_back(std::move(dim));
  }

  Json attributes = Json::array();
  attributes.push_back({{"id", "OBS_STATUS"},
                        {"name", "Observation status"},
                        {"relationship", {{"observation", Json::object()}}},
                        {"values", ValuesJson(obs_status_values.values())}});
  attributes.push_back({{"id", "CONF_STATUS"},
                        {"name", "Confidentiality status"},
                        {"relationship", {{"observation", Json::object()}}},
                        {"values", ValuesJson(conf_status_values.values())}});

  Json structure;
  structure["name"] = "Stocks of refugees, asylum-seekers, stateless persons and labour migrants";
  structure["links"] = dataflow_link;
  structure["dimensions"] = {{"dataSet", Json::array()}, {"series", Json::array()}, {"observation", dims}};
  structure["measures"] = {
      {"observation",
       Json::array({{{"id", "OBS_VALUE"}, {"name", "Number of persons"}, {"format", {{"dataType", "Integer"}}}}})}};
  structure["attributes"] = {
      {"dataSet", Json::array()}, {"series", Json::array()}, {"observation", std::move(attributes)}};
  structure["dataSets"] = Json::array({0});

  Json data_set;
  data_set["structure"] = 0;
  data_set["action"] = "Information";
  data_set["links"] = dataflow_link;  // the 2.0.0 schema requires links on a dataSet
  data_set["observations"] = std::move(obs_json);

  Json message;
  message["meta"] = {{"schema", kSdmxJsonSchema},
                     {"id", meta.id},
                     {"test", false},
                     {"prepared", meta.prepared},
                     {"contentLanguages", Json::array({"en"})},
                     {"sender", {{"id", std::string(kSdmxAgency)}, {"name", kSenderName}}}};
  message["data"] = {{"structures", Json::array({std::move(structure)})},
                     {"dataSets", Json::array({std::move(data_set)})}};
  // Names come from compiled-in UTF-8 lists; replace rather than throw if a
  // code ever carried invalid UTF-8.
  return message.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace gw
