// The shared schema as C++ values: what every adapter produces, whatever the
// national format. See schemas/shared-schema.md for the field definitions.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "gateway/common/date.h"

namespace gw {

// One person as an adapter yields it, before pseudonymisation. `person_id` is
// identifying: it is hashed by the ingest pipeline and then dropped; it must
// never be logged, stored or put into a message.
struct PersonRecord {
  std::string person_id;  // national ID or case-file number (identifying)
  std::string id_field;   // the column/element that held it, for error reports
  std::string pop_type;   // REF, ASY, STA, MIG
  std::string coo;        // ISO 3166-1 alpha-3, XXA or UNK
  std::string sex;        // M or F
  std::string age;        // UNHCR band at the reference date, or "unknown"
  std::string region;     // ISO 3166-2
  Date registered;
  std::optional<Date> valid_until;
};

// A pre-tabulated count (tkm-1), keyed by the same dimensions as a person.
struct CellRecord {
  std::string pop_type, coo, sex, age, region;
  int64_t count = 0;
};

// A rejected row. `row` follows FORMATS.md (data rows from 1; element/item
// ordinal for XML/JSON). `reason` never contains the identifying value itself.
struct RowError {
  uint64_t row = 0;
  std::string field;
  std::string reason;
  std::string kind;  // short fault name, e.g. "bad_checksum" (see EXPECTED.md)
};

// Whether a valid person is in the stock at the reference date
// (registered <= ref and (no expiry or expiry >= ref)).
inline bool InStock(const PersonRecord& p, const Date& ref_date) {
  return p.registered <= ref_date && (!p.valid_until || *p.valid_until >= ref_date);
}

}  // namespace gw
