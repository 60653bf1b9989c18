// shared-v1: the shared schema itself, as newline-delimited JSON. This is what
// `gateway push` sends after running a national adapter and pseudonymising on
// the ministry's own machine, so names and national IDs never travel.
//
//   {"type":"header","profile":"shared-v1","source_profile":"kaz-1","country":"KAZ","ref_date":"2015-06-30"}
//   {"type":"person","row":1,"person_key":"<32 hex digits>","pop_type":"REF","coo":"AFG","sex":"F",
//    "age":"18-59","region":"KZ-75","registered":"2014-03-02","valid_until":null}
//   {"type":"cell","row":1,"pop_type":"REF","coo":"AFG","sex":"F","age":"18-59","region":"TM-S","count":5}
//   {"type":"error","row":7,"field":"ЖСН/ИИН","reason":"...","kind":"bad_checksum"}
//
// The header must come first and match the snapshot (country, reference
// date). "error" lines carry the source adapter's row errors, so strict and
// partial ingest mean the same as for a raw upload. The person key is the
// ministry's keyed hash of the national ID; the gateway hashes it again under
// its own key before storing it.
//
// Thread-safety: one instance per run.
#pragma once

#include <memory>
#include <string>

#include "gateway/schema/adapter.h"
#include "gateway/schema/records.h"

namespace gw::shared_v1 {

std::unique_ptr<Adapter> NewAdapter();

// Serialisation used by the push client.
std::string HeaderLine(const std::string& source_profile, const std::string& country,
                       const std::string& ref_date);
std::string PersonLine(uint64_t row, const std::string& person_key_hex, const PersonRecord& p);
std::string CellLine(uint64_t row, const CellRecord& c);
std::string ErrorLine(const RowError& e);

}  // namespace gw::shared_v1
