// Shared body of the adapter fuzz targets: runs one registered adapter over
// the input with a sink that checks the adapter's contract (every record is
// in the shared schema; row numbers never go backwards). Any crash, sanitizer
// report or contract violation is a finding.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>

#include "gateway/common/byte_source.h"
#include "gateway/schema/adapter_registry.h"
#include "gateway/schema/codelists.h"

namespace gw::fuzz {

class CheckingSink : public RecordSink {
 public:
  explicit CheckingSink(std::string country) : country_(std::move(country)) {}
  Status OnPerson(uint64_t row, PersonRecord&& p) override {
    Order(row);
    Check(p.pop_type, p.coo, p.sex, p.age, p.region);
    if (p.person_id.empty()) std::abort();
    return Status::Ok();
  }
  Status OnCell(uint64_t row, CellRecord&& c) override {
    Order(row);
    Check(c.pop_type, c.coo, c.sex, c.age, c.region);
    if (c.count < 0) std::abort();
    return Status::Ok();
  }
  Status OnRowError(RowError&& e) override {
    Order(e.row);
    if (e.reason.empty() || e.kind.empty()) std::abort();
    return Status::Ok();
  }

 private:
  void Order(uint64_t row) {
    if (row < last_row_) std::abort();
    last_row_ = row;
  }
  void Check(const std::string& pop, const std::string& coo, const std::string& sex,
             const std::string& age, const std::string& region) {
    const auto& c = CodeLists::Get();
    const Region* r = c.RegionByCode(region);
    if (!c.IsPopType(pop) || !c.CountryByAlpha3(coo) || !c.IsSex(sex) || !c.IsAgeBand(age) ||
        r == nullptr || r->country != country_) {
      std::abort();
    }
  }
  std::string country_;
  uint64_t last_row_ = 0;
};

inline int RunAdapter(const std::string& profile, const std::string& charset, const uint8_t* data,
                      size_t size) {
  const AdapterInfo* info = AdapterRegistry::Global().Find(profile);
  if (info == nullptr) std::abort();
  std::string country = info->country.empty() ? "KAZ" : info->country;
  // The reference date the samples use; the adapters check it against the file's own.
  AdapterContext ctx{country, Date{2015, 6, 30}, charset};
  StringSource source(std::string(reinterpret_cast<const char*>(data), size));
  CheckingSink sink(country);
  auto adapter = info->create();
  Status s = adapter->Run(source, ctx, sink);
  if (!s.ok() && s.message().empty()) std::abort();  // a whole-file fault must say what is wrong
  return 0;
}

}  // namespace gw::fuzz
