// The receipt of an upload: what `gateway ingest` prints and the server
// answers, one JSON object:
//   {"status": "committed"|"rejected", "country", "ref_date", "version",
//    "rows", "accepted", "expired", "in_stock",
//    "rejected": [{"row", "field", "reason", "kind"}], "digest",
//    "profile", "new_version", "error": {"code", "message"} (whole-file faults only)}
//
// Thread-safety: plain value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gateway/schema/records.h"

namespace gw {

struct Receipt {
  std::string status;  // "committed" or "rejected"
  std::string country;
  std::string ref_date;
  std::string profile;
  std::optional<int64_t> version;
  bool new_version = false;  // false for an identical re-upload or a rejection
  int64_t rows = 0, accepted = 0, expired = 0, in_stock = 0;
  std::vector<RowError> rejected;
  std::string digest;
  std::optional<std::string> error_code, error_message;  // whole-file fault

  bool committed() const { return status == "committed"; }
  std::string ToJson(int indent = -1) const;
};

}  // namespace gw
