#include <catch2/catch.hpp>

#include "gateway/schema/adapter_registry.h"
#include "gateway/schema/codelists.h"

namespace gw {

TEST_CASE("code lists are loaded from the embedded schema files", "[schema]") {
  const auto& c = CodeLists::Get();
  CHECK(c.countries().size() > 240);
  REQUIRE(c.CountryByAlpha3("AFG") != nullptr);
  CHECK(c.CountryByAlpha3("AFG")->numeric == "004");
  CHECK(c.CountryByAlpha3("AFG")->alpha2 == "AF");
  CHECK(c.CountryByNumeric("860")->alpha3 == "UZB");
  CHECK(c.CountryByAlpha3("XXA") != nullptr);
  CHECK(c.CountryByAlpha3("UNK") != nullptr);
  CHECK(c.CountryByAlpha3("XXX") == nullptr);
  CHECK(c.CountryByAlpha3("afg") == nullptr);
  REQUIRE(c.RegionByCode("KZ-75") != nullptr);
  CHECK(c.RegionByCode("KZ-75")->country == "KAZ");
  CHECK(c.RegionByCode("KG-GB")->country == "KGZ");
  CHECK(c.RegionByCode("TJ-RA")->country == "TJK");
  CHECK(c.RegionByCode("TM-S")->country == "TKM");
  CHECK(c.RegionByCode("UZ-QR")->country == "UZB");
  CHECK(c.RegionByCode("KZ-AST") == nullptr);  // replaced by KZ-71
  for (const char* p : {"REF", "ASY", "STA", "MIG"}) CHECK(c.IsPopType(p));
  CHECK(c.IsSex("F"));
  CHECK_FALSE(c.IsSex("X"));
}

TEST_CASE("age bands follow UNHCR's bands", "[schema]") {
  const auto& c = CodeLists::Get();
  CHECK(c.AgeBandForYears(0) == "0-4");
  CHECK(c.AgeBandForYears(4) == "0-4");
  CHECK(c.AgeBandForYears(5) == "5-11");
  CHECK(c.AgeBandForYears(11) == "5-11");
  CHECK(c.AgeBandForYears(12) == "12-17");
  CHECK(c.AgeBandForYears(17) == "12-17");
  CHECK(c.AgeBandForYears(18) == "18-59");
  CHECK(c.AgeBandForYears(59) == "18-59");
  CHECK(c.AgeBandForYears(60) == "60+");
  CHECK(c.AgeBandForYears(120) == "60+");
  CHECK(c.AgeBandForYears(-1) == "unknown");
  CHECK(c.IsAgeBand("unknown"));
}

TEST_CASE("the adapter registry lists kaz-1", "[schema]") {
  const AdapterInfo* kaz = AdapterRegistry::Global().Find("kaz-1");
  REQUIRE(kaz != nullptr);
  CHECK(kaz->country == "KAZ");
  CHECK(kaz->charsets.front() == "utf-8");
  CHECK(AdapterRegistry::Global().Find("nope-1") == nullptr);
  CHECK_FALSE(AdapterRegistry::Global().Register(AdapterInfo{"kaz-1", "KAZ", "", {}, "", nullptr}));
}

}  // namespace gw
