#include <catch2/catch.hpp>
#include <set>

#include "adapters/shared-v1/shared_v1.h"
#include "gateway/crypto/keys.h"
#include "gateway/ingest/ingest.h"
#include "gateway/schema/adapter_registry.h"
#include "support/test_deployment.h"

namespace gw {
namespace {

// What the push client does on the ministry's machine: run the national
// adapter and write shared-v1 lines with pseudonymised person keys.
class ToSharedV1 : public RecordSink {
 public:
  explicit ToSharedV1(const Pseudonymiser& p) : p_(p) {}
  Status OnPerson(uint64_t row, PersonRecord&& person) override {
    PersonKey k = p_.KeyFor(person.person_id);
    out += shared_v1::PersonLine(row, ToHex(std::string_view(reinterpret_cast<const char*>(k.data()), k.size())), person);
    return Status::Ok();
  }
  Status OnCell(uint64_t row, CellRecord&& c) override {
    out += shared_v1::CellLine(row, c);
    return Status::Ok();
  }
  Status OnRowError(RowError&& e) override {
    out += shared_v1::ErrorLine(e);
    return Status::Ok();
  }
  std::string out;

 private:
  const Pseudonymiser& p_;
};

}  // namespace

TEST_CASE("shared-v1 carries a pseudonymised register with the same outcome as the raw file", "[shared-v1]") {
  auto truth = test::Truth("kaz-1.truth.json");
  Pseudonymiser ministry("KAZ", RandomBytes(32));
  ToSharedV1 sink(ministry);
  sink.out = shared_v1::HeaderLine("kaz-1", "KAZ", "2015-06-30");
  StringSource raw(test::ReadFile(test::FixturePath("kaz-1.csv")));
  auto kaz = AdapterRegistry::Global().Find("kaz-1")->create();
  REQUIRE(kaz->Run(raw, AdapterContext{"KAZ", {2015, 6, 30}, "utf-8"}, sink).ok());
  // No national ID or name leaves the ministry.
  CHECK(sink.out.find("680719326386") == std::string::npos);
  CHECK(sink.out.find("Каримов") == std::string::npos);

  test::TestDeployment t;
  Ingestor ingestor(t.deployment().store(), t.deployment().keys());
  StringSource strict_src(sink.out);
  auto strict = ingestor.Ingest(IngestRequest{"KAZ", {2015, 6, 30}, "shared-v1", "", false}, strict_src);
  REQUIRE(strict.ok());
  CHECK(strict->status == "rejected");
  std::set<uint64_t> rows, want;
  for (const auto& e : strict->rejected) rows.insert(e.row);
  for (const auto& e : truth["invalid"]) want.insert(e["row"].get<uint64_t>());
  CHECK(rows == want);

  StringSource partial_src(sink.out);
  auto partial = ingestor.Ingest(IngestRequest{"KAZ", {2015, 6, 30}, "shared-v1", "", true}, partial_src);
  REQUIRE(partial.ok());
  REQUIRE(partial->committed());
  CHECK(partial->in_stock == truth["in_stock"].get<int64_t>());
  CHECK(partial->expired == truth["expired"].get<int64_t>());
  CHECK(partial->accepted == truth["valid"].get<int64_t>());
}

TEST_CASE("shared-v1 refuses files that do not match the snapshot or the schema", "[shared-v1]") {
  test::TestDeployment t;
  Ingestor ingestor(t.deployment().store(), t.deployment().keys());
  auto ingest = [&](const std::string& text) {
    StringSource src(text);
    auto r = ingestor.Ingest(IngestRequest{"KAZ", {2015, 6, 30}, "shared-v1", "", true}, src);
    REQUIRE(r.ok());
    return *r;
  };
  std::string header = shared_v1::HeaderLine("kaz-1", "KAZ", "2015-06-30");
  CHECK(ingest("").error_message->find("empty") != std::string::npos);
  CHECK(ingest(shared_v1::HeaderLine("kaz-1", "KGZ", "2015-06-30")).error_message->find("country") != std::string::npos);
  CHECK(ingest(shared_v1::HeaderLine("kaz-1", "KAZ", "2015-12-31")).error_message->find("ref_date") != std::string::npos);
  CHECK(ingest(header + "{not json\n").error_message->find("line 2") != std::string::npos);
  PersonRecord p{"", "", "REF", "AFG", "F", "18-59", "KG-GB", {2014, 3, 2}, std::nullopt};
  auto bad_region = ingest(header + shared_v1::PersonLine(1, std::string(32, 'a'), p));
  REQUIRE(bad_region.rejected.size() == 1);
  CHECK(bad_region.rejected[0].field == "region");
  p.region = "KZ-75";
  auto ok = ingest(header + shared_v1::PersonLine(1, std::string(32, 'a'), p));
  CHECK(ok.committed());
  CHECK(ok.in_stock == 1);
}

}  // namespace gw
