#include "gateway/ingest/receipt.h"

#include <nlohmann/json.hpp>

namespace gw {

std::string Receipt::ToJson(int indent) const {
  nlohmann::ordered_json j;
  j["status"] = status;
  j["country"] = country;
  j["ref_date"] = ref_date;
  j["profile"] = profile;
  j["version"] = version ? nlohmann::ordered_json(*version) : nlohmann::ordered_json(nullptr);
  j["new_version"] = new_version;
  j["rows"] = rows;
  j["accepted"] = accepted;
  j["expired"] = expired;
  j["in_stock"] = in_stock;
  auto& list = j["rejected"] = nlohmann::ordered_json::array();
  for (const auto& e : rejected) {
    list.push_back({{"row", e.row}, {"field", e.field}, {"reason", e.reason}, {"kind", e.kind}});
  }
  j["digest"] = digest;
  if (error_code) j["error"] = {{"code", *error_code}, {"message", error_message.value_or("")}};
  // Replace rather than fail on bytes that are not UTF-8 (field names come from the file).
  return j.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace gw
