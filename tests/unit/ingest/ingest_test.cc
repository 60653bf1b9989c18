#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>
#include <set>

#include "gateway/ingest/ingest.h"
#include "support/test_deployment.h"

namespace gw {
namespace {

Result<Receipt> IngestText(Deployment& d, const std::string& text, bool partial,
                           const std::string& charset = "", const std::string& date = "2015-06-30") {
  StringSource source(text);
  Ingestor ingestor(d.store(), d.keys());
  return ingestor.Ingest(IngestRequest{"KAZ", *ParseIsoDate(date), "kaz-1", charset, partial}, source);
}

std::map<std::string, int64_t> StoredCounts(Store& store, int64_t snapshot_id,
                                            const std::vector<Dim>& dims) {
  std::array<std::vector<std::string>, kDimCount> no_filter;
  std::map<std::string, int64_t> out;
  auto rows = store.ReadCounts(snapshot_id, dims, no_filter);
  REQUIRE(rows.ok());
  for (const auto& row : *rows) {
    std::string key;
    for (const auto& v : row.values) key += (key.empty() ? "" : ",") + v;
    out[key] = row.count;
  }
  return out;
}

}  // namespace

TEST_CASE("strict ingest of kaz-1.csv rejects exactly the invalid rows and stores nothing",
          "[ingest]") {
  test::TestDeployment t;
  auto truth = test::Truth("kaz-1.truth.json");
  auto receipt = IngestText(t.deployment(), test::ReadFile(test::FixturePath("kaz-1.csv")), false);
  REQUIRE(receipt.ok());
  CHECK(receipt->status == "rejected");
  CHECK_FALSE(receipt->version.has_value());
  CHECK(receipt->rows == truth["rows"].get<int64_t>());
  std::set<uint64_t> want, got;
  for (const auto& e : truth["invalid"]) want.insert(e["row"].get<uint64_t>());
  for (const auto& e : receipt->rejected) {
    got.insert(e.row);
    CHECK_FALSE(e.field.empty());
    CHECK_FALSE(e.reason.empty());
  }
  CHECK(got == want);
  CHECK(receipt->rejected.size() == want.size());
  CHECK(t.deployment().store().ListSnapshots("")->empty());
  // The receipt never carries an identifier from the file.
  std::string json = receipt->ToJson();
  CHECK(json.find("680719326386") == std::string::npos);
}

TEST_CASE("partial ingest commits the valid rows with the truth's counts", "[ingest]") {
  test::TestDeployment t;
  auto truth = test::Truth("kaz-1.truth.json");
  std::string text = test::ReadFile(test::FixturePath("kaz-1.csv"));
  auto receipt = IngestText(t.deployment(), text, true);
  REQUIRE(receipt.ok());
  CHECK(receipt->status == "committed");
  CHECK(receipt->version == 1);
  CHECK(receipt->new_version);
  CHECK(receipt->accepted == truth["valid"].get<int64_t>());
  CHECK(receipt->expired == truth["expired"].get<int64_t>());
  CHECK(receipt->in_stock == truth["in_stock"].get<int64_t>());
  CHECK(receipt->rejected.size() == truth["invalid"].size());
  for (const auto& e : receipt->rejected) {
    if (e.row == 44) CHECK(e.kind == "duplicate_id");
  }
  CHECK(receipt->digest.rfind("sha256:", 0) == 0);

  auto current = t.deployment().store().CurrentSnapshot("KAZ", "2015-06-30");
  REQUIRE(current->has_value());
  int64_t id = (*current)->id;
  Store& store = t.deployment().store();
  CHECK(StoredCounts(store, id, {Dim::kPopType}) == test::TruthCounts(truth, "pop_type"));
  CHECK(StoredCounts(store, id, {Dim::kPopType, Dim::kCoo}) == test::TruthCounts(truth, "pop_type,coo"));
  CHECK(StoredCounts(store, id, {Dim::kPopType, Dim::kSex, Dim::kAge}) ==
        test::TruthCounts(truth, "pop_type,sex,age"));
  CHECK(StoredCounts(store, id, {Dim::kPopType, Dim::kRegion}) ==
        test::TruthCounts(truth, "pop_type,region"));
  CHECK(StoredCounts(store, id, {Dim::kPopType, Dim::kCoo, Dim::kSex, Dim::kAge, Dim::kRegion}) ==
        test::TruthCounts(truth, "full"));

  SECTION("the same content again returns the original receipt and makes no new version") {
    auto again = IngestText(t.deployment(), text, true);
    REQUIRE(again.ok());
    CHECK(again->status == "committed");
    CHECK(again->version == 1);
    CHECK_FALSE(again->new_version);
    CHECK(again->digest == receipt->digest);
    CHECK(again->in_stock == receipt->in_stock);
    CHECK(again->rejected.size() == receipt->rejected.size());
    CHECK(store.ListSnapshots("KAZ")->size() == 1);
  }

  SECTION("other content becomes the new current version; the old one stays listed") {
    auto rk = IngestText(t.deployment(), test::ReadFile(test::FixturePath("kaz-1.rk1048.csv")), false,
                         "rk1048");
    REQUIRE(rk.ok());
    CHECK(rk->status == "committed");
    CHECK(rk->version == 2);
    auto rk_truth = test::Truth("kaz-1.rk1048.truth.json");
    CHECK(rk->in_stock == rk_truth["in_stock"].get<int64_t>());
    CHECK(rk->expired == rk_truth["expired"].get<int64_t>());
    auto now = store.CurrentSnapshot("KAZ", "2015-06-30");
    CHECK((*now)->version == 2);
    CHECK(StoredCounts(store, (*now)->id, {Dim::kPopType, Dim::kCoo, Dim::kSex, Dim::kAge, Dim::kRegion}) ==
          test::TruthCounts(rk_truth, "full"));
    auto list = store.ListSnapshots("KAZ");
    REQUIRE(list->size() == 2);
    CHECK((*list)[1].version == 1);
    CHECK_FALSE((*list)[1].current);
  }
}

TEST_CASE("persons are stored pseudonymised: no names, IDs or birth dates", "[ingest]") {
  test::TestDeployment t;
  std::string text = test::ReadFile(test::FixturePath("kaz-1.rk1048.csv"));
  REQUIRE(IngestText(t.deployment(), text, false, "rk1048")->committed());
  std::string db = test::ReadFile(t.deployment().dir() + "/data/gateway.db") +
                   (std::filesystem::exists(t.deployment().dir() + "/data/gateway.db-wal")
                        ? test::ReadFile(t.deployment().dir() + "/data/gateway.db-wal")
                        : std::string());
  // No 12-digit IIN of the file appears in the database files.
  std::regex iin(R"((^|[^0-9])([0-9]{12})(?![0-9]))");
  size_t ids_checked = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), iin); it != std::sregex_iterator(); ++it) {
    ++ids_checked;
    CHECK(db.find((*it)[2].str()) == std::string::npos);
  }
  CHECK(ids_checked >= 40);
  // Nor any date as the file writes it (birth dates are reduced to an age band).
  std::regex dotted(R"(\d\d\.\d\d\.\d{4})");
  size_t dates_checked = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), dotted); it != std::sregex_iterator(); ++it) {
    ++dates_checked;
    CHECK(db.find(it->str()) == std::string::npos);
  }
  CHECK(dates_checked >= 80);
}

TEST_CASE("whole-file faults give a rejected receipt that says what and where", "[ingest]") {
  test::TestDeployment t;
  SECTION("empty file") {
    auto r = IngestText(t.deployment(), "", false);
    REQUIRE(r.ok());
    CHECK(r->status == "rejected");
    CHECK(r->error_message->find("empty") != std::string::npos);
  }
  SECTION("header only") {
    std::string text = test::ReadFile(test::FixturePath("kaz-1.csv"));
    auto r = IngestText(t.deployment(), text.substr(0, text.find('\n') + 1), false);
    REQUIRE(r.ok());
    CHECK(r->status == "rejected");
    CHECK(r->error_message->find("no data rows") != std::string::npos);
  }
  SECTION("an RK1048 file declared as UTF-8") {
    auto r = IngestText(t.deployment(), test::ReadFile(test::FixturePath("kaz-1.rk1048.csv")), false);
    REQUIRE(r.ok());
    CHECK(r->status == "rejected");
    CHECK(r->error_message->find("byte") != std::string::npos);
  }
  SECTION("a missing column is named") {
    std::string text = test::ReadFile(test::FixturePath("kaz-1.csv"));
    size_t at = text.find("Облыс/Область");
    text.replace(at, std::string("Облыс/Область").size(), "Region");
    auto r = IngestText(t.deployment(), text, false);
    REQUIRE(r.ok());
    CHECK(r->status == "rejected");
    CHECK(r->error_message->find("Облыс/Область") != std::string::npos);
  }
  SECTION("garbage bytes") {
    auto r = IngestText(t.deployment(), std::string("\x00\xff\xfe garbage \x01\x02", 15), false);
    REQUIRE(r.ok());
    CHECK(r->status == "rejected");
  }
  CHECK(t.deployment().store().ListSnapshots("")->empty());
}

TEST_CASE("requests are checked before any byte is read", "[ingest]") {
  CHECK(ValidateIngestRequest({"KAZ", {2015, 6, 30}, "kaz-1", "", false}).ok());
  CHECK(ValidateIngestRequest({"KAZ", {2015, 6, 30}, "kaz-1", "RK1048", false}).ok());
  CHECK(ValidateIngestRequest({"KAZ", {2015, 6, 30}, "kaz-9", "", false}).code() == Code::kInvalidArgument);
  CHECK(ValidateIngestRequest({"KGZ", {2015, 6, 30}, "kaz-1", "", false}).code() == Code::kPermissionDenied);
  CHECK(ValidateIngestRequest({"KAZ", {2015, 6, 30}, "kaz-1", "latin1", false}).code() == Code::kInvalidArgument);
  CHECK(ValidateIngestRequest({"XYZ", {2015, 6, 30}, "kaz-1", "", false}).code() == Code::kInvalidArgument);
}

}  // namespace gw
