#include "gateway/ingest/ingest.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "gateway/common/text.h"
#include "gateway/crypto/digest.h"
#include "gateway/schema/adapter_registry.h"
#include "gateway/schema/codelists.h"

namespace gw {
namespace {

std::string YearMonth(const Date& d) {
  if (d.year >= 0 && d.year <= 9999 && d.month >= 0 && d.month <= 99) return d.ToIso().substr(0, 7);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d", d.year, d.month);
  return buf;
}

// Receives the adapter's output and writes the uncommitted snapshot.
class SnapshotSink : public RecordSink {
 public:
  SnapshotSink(SnapshotWriter& writer, const Pseudonymiser& pseudonymiser,
               const AdapterContext& ctx, Receipt& receipt)
      : writer_(writer), pseudonymiser_(pseudonymiser), ctx_(ctx), receipt_(receipt) {}

  Status OnPerson(uint64_t row, PersonRecord&& p) override {
    ++receipt_.rows;
    GW_RETURN_IF_ERROR(CheckCodes(row, p.pop_type, p.coo, p.sex, p.age, p.region));
    StoredPerson stored;
    stored.pop_type = std::move(p.pop_type);
    stored.coo = std::move(p.coo);
    stored.sex = std::move(p.sex);
    stored.age = std::move(p.age);
    stored.region = std::move(p.region);
    stored.reg_month = YearMonth(p.registered);
    if (p.valid_until) stored.valid_until = p.valid_until->ToIso();
    stored.in_stock = InStock(p, ctx_.ref_date);
    PersonKey key = pseudonymiser_.KeyFor(p.person_id);
    GW_RETURN_IF_ERROR(writer_.AddPerson(key, stored, row));
    if (id_field_.empty()) id_field_ = p.id_field;
    // Counted as accepted until ResolveDuplicates finds an earlier row with the same key.
    ++receipt_.accepted;
    ++(stored.in_stock ? receipt_.in_stock : receipt_.expired);
    return Status::Ok();
  }

  // Sorts the persons, moves every repeated identifier from the accepted
  // counts to the rejected rows and, with `store`, inserts the rest.
  Status ResolveDuplicates(bool store) {
    GW_ASSIGN_OR_RETURN(auto duplicates, writer_.ResolvePersons(store));
    for (const auto& d : duplicates) {
      receipt_.rejected.push_back(RowError{
          d.row, id_field_, "the same identifier already appears on an earlier row", "duplicate_id"});
      --receipt_.accepted;
      --(d.in_stock ? receipt_.in_stock : receipt_.expired);
    }
    return Status::Ok();
  }

  Status OnCell(uint64_t row, CellRecord&& c) override {
    ++receipt_.rows;
    GW_RETURN_IF_ERROR(CheckCodes(row, c.pop_type, c.coo, c.sex, c.age, c.region));
    if (c.count < 0) return Status::Internal("adapter produced a negative count on row " + std::to_string(row));
    ++receipt_.accepted;
    receipt_.in_stock += c.count;
    writer_.AddCount({c.pop_type, c.coo, c.sex, c.age, c.region}, c.count);
    return Status::Ok();
  }

  Status OnRowError(RowError&& e) override {
    ++receipt_.rows;
    receipt_.rejected.push_back(std::move(e));
    return Status::Ok();
  }

 private:
  // Adapters must only produce shared-schema codes; anything else is a bug in
  // the adapter, and nothing it produced may be stored.
  Status CheckCodes(uint64_t row, const std::string& pop_type, const std::string& coo,
                    const std::string& sex, const std::string& age, const std::string& region) {
    const auto& codes = CodeLists::Get();
    const Region* r = codes.RegionByCode(region);
    if (!codes.IsPopType(pop_type) || codes.CountryByAlpha3(coo) == nullptr || !codes.IsSex(sex) ||
        !codes.IsAgeBand(age) || r == nullptr || r->country != ctx_.country) {
      return Status::Internal("adapter produced a record outside the shared schema on row " +
                              std::to_string(row));
    }
    return Status::Ok();
  }

  SnapshotWriter& writer_;
  std::string id_field_;  // the identifier's column, for duplicate reports
  const Pseudonymiser& pseudonymiser_;
  const AdapterContext& ctx_;
  Receipt& receipt_;
};

Result<Receipt> ReceiptFromJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::Corruption("stored receipt is not valid JSON");
  Receipt r;
  r.status = j.value("status", "");
  r.country = j.value("country", "");
  r.ref_date = j.value("ref_date", "");
  r.profile = j.value("profile", "");
  if (j.contains("version") && j["version"].is_number()) r.version = j["version"].get<int64_t>();
  r.rows = j.value("rows", int64_t{0});
  r.accepted = j.value("accepted", int64_t{0});
  r.expired = j.value("expired", int64_t{0});
  r.in_stock = j.value("in_stock", int64_t{0});
  r.digest = j.value("digest", "");
  for (const auto& e : j.value("rejected", nlohmann::json::array())) {
    r.rejected.push_back(RowError{e.value("row", uint64_t{0}), e.value("field", ""),
                                  e.value("reason", ""), e.value("kind", "")});
  }
  return r;
}

}  // namespace

Status ValidateIngestRequest(const IngestRequest& req) {
  const auto& codes = CodeLists::Get();
  const Country* c = codes.CountryByAlpha3(req.country);
  if (c == nullptr || c->alpha2.empty()) {
    return Status::InvalidArgument("unknown country \"" + req.country +
                                   "\" (expected an ISO 3166-1 alpha-3 code such as KAZ)");
  }
  const AdapterInfo* info = AdapterRegistry::Global().Find(req.profile);
  if (info == nullptr) {
    std::string known;
    for (const auto* a : AdapterRegistry::Global().All()) known += (known.empty() ? "" : ", ") + a->profile;
    return Status::InvalidArgument("unknown profile \"" + req.profile + "\" (known: " + known + ")");
  }
  if (!info->country.empty() && info->country != req.country) {
    return Status::PermissionDenied("profile " + req.profile + " is " + info->country +
                                    "'s export profile and cannot be used for " + req.country);
  }
  if (!req.charset.empty()) {
    std::string cs = AsciiLower(req.charset);
    bool ok = std::find(info->charsets.begin(), info->charsets.end(), cs) != info->charsets.end();
    if (!ok) {
      std::string known;
      for (const auto& k : info->charsets) known += (known.empty() ? "" : ", ") + k;
      return Status::InvalidArgument("charset \"" + req.charset + "\" is not accepted by profile " +
                                     req.profile + " (accepted: " + known + ")");
    }
  }
  return Status::Ok();
}

Result<Receipt> Ingestor::Ingest(const IngestRequest& req, ByteSource& input) {
  auto receipt = IngestUnaudited(req, input);
  // A commit is audited inside its own transaction; refusals are recorded here,
  // once the snapshot's write transaction has been rolled back.
  if (receipt.ok() && !receipt->committed()) {
    nlohmann::json detail = {{"country", req.country},
                             {"ref_date", receipt->ref_date},
                             {"profile", req.profile},
                             {"digest", receipt->digest},
                             {"rows", receipt->rows},
                             {"rejected_rows", receipt->rejected.size()},
                             {"error", receipt->error_code.value_or("")}};
    GW_RETURN_IF_ERROR(store_.AppendAudit("snapshot.reject", req.actor, detail.dump()));
  }
  return receipt;
}

Result<Receipt> Ingestor::IngestUnaudited(const IngestRequest& req, ByteSource& input) {
  GW_RETURN_IF_ERROR(ValidateIngestRequest(req));
  const AdapterInfo* info = AdapterRegistry::Global().Find(req.profile);
  GW_ASSIGN_OR_RETURN(const Pseudonymiser* pseudonymiser, keys_.PseudonymiserFor(req.country));

  AdapterContext ctx{req.country, req.ref_date, AsciiLower(req.charset)};
  if (ctx.charset.empty() && !info->charsets.empty()) ctx.charset = info->charsets.front();
  Receipt receipt;
  receipt.country = req.country;
  receipt.ref_date = req.ref_date.ToIso();
  receipt.profile = req.profile;

  Sha256 hash;
  uint64_t bytes = 0;
  ObservedSource observed(input, [&](std::string_view chunk) {
    hash.Update(chunk);
    bytes += chunk.size();
  });

  GW_ASSIGN_OR_RETURN(auto writer, store_.BeginSnapshot(req.country, receipt.ref_date, req.profile));
  SnapshotSink sink(*writer, *pseudonymiser, ctx, receipt);
  std::unique_ptr<Adapter> adapter = info->create();
  Status file_status = adapter->Run(observed, ctx, sink);
  // Faults of the store or of an adapter's contract are ours, not the file's.
  if (!file_status.ok() && (file_status.code() == Code::kIoError ||
                            file_status.code() == Code::kInternal ||
                            file_status.code() == Code::kCorruption ||
                            file_status.code() == Code::kUnavailable)) {
    return file_status;
  }
  // Hash whatever the adapter did not read, so the digest is of the whole upload.
  char buf[1 << 16];
  while (true) {
    auto n = observed.Read(buf, sizeof buf);
    if (!n.ok() || *n == 0) break;
  }
  receipt.digest = FormatDigest(hash.Final());
  if (req.verify_before_commit) GW_RETURN_IF_ERROR(req.verify_before_commit());
  auto sort_rejected = [&] {
    std::sort(receipt.rejected.begin(), receipt.rejected.end(),
              [](const RowError& a, const RowError& b) { return a.row < b.row; });
  };

  auto reject = [&](std::string code, std::string message) {
    receipt.status = "rejected";
    receipt.error_code = std::move(code);
    receipt.error_message = std::move(message);
    return receipt;  // `writer` rolls back when it goes out of scope
  };
  if (!file_status.ok()) return reject("invalid_file", file_status.message());
  if (receipt.rows == 0) {
    return reject("empty_file", bytes == 0 ? "the file is empty"
                                           : "the file has no data rows (header only); an empty "
                                             "register would replace the current snapshot with "
                                             "nothing, so it is refused");
  }
  if (!receipt.rejected.empty() && !req.partial) {
    // Rejected whatever else: find the repeated identifiers for the report, store nothing.
    GW_RETURN_IF_ERROR(sink.ResolveDuplicates(false));
    sort_rejected();
    receipt.status = "rejected";
    return receipt;
  }

  GW_ASSIGN_OR_RETURN(auto current, store_.CurrentSnapshot(req.country, receipt.ref_date));
  if (current && current->digest == receipt.digest) {
    GW_ASSIGN_OR_RETURN(Receipt original, ReceiptFromJson(current->receipt_json));
    original.new_version = false;
    return original;
  }

  GW_RETURN_IF_ERROR(sink.ResolveDuplicates(true));
  sort_rejected();
  if (!receipt.rejected.empty() && !req.partial) {
    receipt.status = "rejected";
    return receipt;
  }
  if (receipt.accepted == 0) {
    return reject("no_valid_rows", "no row of the file is valid, so there is nothing to commit");
  }

  receipt.status = "committed";
  receipt.version = writer->version();
  receipt.new_version = true;
  SnapshotTotals totals{receipt.rows, receipt.accepted, receipt.expired, receipt.in_stock,
                        static_cast<int64_t>(receipt.rejected.size())};
  GW_RETURN_IF_ERROR(writer->Commit(receipt.digest, totals, receipt.ToJson(), req.actor));
  return receipt;
}

}  // namespace gw
