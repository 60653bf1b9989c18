#include "adapters/shared-v1/shared_v1.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "gateway/schema/adapter_registry.h"
#include "gateway/schema/codelists.h"

namespace gw::shared_v1 {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxLineBytes = 64 * 1024;

class SharedV1Adapter : public Adapter {
 public:
  Status Run(ByteSource& input, const AdapterContext& ctx, RecordSink& sink) override {
    std::string buffer(1 << 16, '\0'), line;
    uint64_t line_no = 0, last_row = 0;
    bool header_seen = false, eof = false;
    size_t pos = 0, len = 0;
    while (!eof || pos < len) {
      // Read one line (without its LF).
      line.clear();
      bool have_line = false;
      while (!have_line) {
        if (pos == len) {
          GW_ASSIGN_OR_RETURN(size_t n, input.Read(buffer.data(), buffer.size()));
          pos = 0, len = n;
          if (n == 0) {
            eof = true;
            break;
          }
        }
        const char* start = buffer.data() + pos;
        const char* nl = static_cast<const char*>(std::memchr(start, '\n', len - pos));
        size_t take = nl ? static_cast<size_t>(nl - start) : len - pos;
        line.append(start, take);
        pos += take + (nl ? 1 : 0);
        if (line.size() > kMaxLineBytes) {
          return Status::InvalidArgument("line " + std::to_string(line_no + 1) + " is longer than " +
                                         std::to_string(kMaxLineBytes) + " bytes");
        }
        have_line = nl != nullptr;
      }
      if (line.empty() && eof) break;
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      json j = json::parse(line, nullptr, false);
      const std::string where = "line " + std::to_string(line_no);
      if (j.is_discarded() || !j.is_object()) {
        return Status::InvalidArgument(where + " is not a JSON object");
      }
      std::string type = Str(j, "type");
      if (!header_seen) {
        if (type != "header") return Status::InvalidArgument(where + ": the first line must be the header");
        if (Str(j, "profile") != "shared-v1") {
          return Status::InvalidArgument(where + ": header profile must be \"shared-v1\"");
        }
        if (Str(j, "country") != ctx.country) {
          return Status::InvalidArgument(where + ": header country does not match the snapshot's (" +
                                         ctx.country + ")");
        }
        if (Str(j, "ref_date") != ctx.ref_date.ToIso()) {
          return Status::InvalidArgument(where + ": header ref_date does not match the snapshot's (" +
                                         ctx.ref_date.ToIso() + ")");
        }
        header_seen = true;
        continue;
      }
      if (!j.contains("row") || !j["row"].is_number_unsigned()) {
        return Status::InvalidArgument(where + ": \"row\" must be a positive whole number");
      }
      uint64_t row = j["row"].get<uint64_t>();
      if (row == 0 || row < last_row) {
        return Status::InvalidArgument(where + ": rows must be numbered from 1 in file order");
      }
      last_row = row;
      if (type == "person") {
        GW_RETURN_IF_ERROR(Person(j, row, where, ctx, sink));
      } else if (type == "cell") {
        GW_RETURN_IF_ERROR(Cell(j, row, where, ctx, sink));
      } else if (type == "error") {
        RowError e{row, Str(j, "field"), Str(j, "reason"), Str(j, "kind")};
        if (e.reason.empty()) e.reason = "rejected by the ministry's adapter";
        if (e.kind.empty()) e.kind = "invalid_row";
        GW_RETURN_IF_ERROR(sink.OnRowError(std::move(e)));
      } else {
        return Status::InvalidArgument(where + ": unknown line type \"" + type + "\"");
      }
    }
    if (!header_seen) return Status::InvalidArgument("the file is empty (no header line)");
    return Status::Ok();
  }

 private:
  static std::string Str(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  }

  // Codes are checked here too: the push client is not trusted to have done it.
  static std::string CodesProblem(const std::string& pop, const std::string& coo, const std::string& sex,
                                  const std::string& age, const std::string& region,
                                  const std::string& country) {
    const auto& c = CodeLists::Get();
    if (!c.IsPopType(pop)) return "pop_type";
    if (c.CountryByAlpha3(coo) == nullptr) return "coo";
    if (!c.IsSex(sex)) return "sex";
    if (!c.IsAgeBand(age)) return "age";
    const Region* r = c.RegionByCode(region);
    if (r == nullptr || r->country != country) return "region";
    return {};
  }

  static Status Person(const json& j, uint64_t row, const std::string& where, const AdapterContext& ctx,
                       RecordSink& sink) {
    PersonRecord p;
    p.person_id = Str(j, "person_key");
    p.id_field = "person_key";
    p.pop_type = Str(j, "pop_type");
    p.coo = Str(j, "coo");
    p.sex = Str(j, "sex");
    p.age = Str(j, "age");
    p.region = Str(j, "region");
    bool hex = p.person_id.size() == 32 &&
               p.person_id.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!hex) {
      return sink.OnRowError({row, "person_key", "person_key must be 32 lower-case hex digits", "bad_id_format"});
    }
    if (auto bad = CodesProblem(p.pop_type, p.coo, p.sex, p.age, p.region, ctx.country); !bad.empty()) {
      return sink.OnRowError({row, bad, "not a code of the shared schema for this field", "bad_code"});
    }
    auto reg = ParseIsoDate(Str(j, "registered"));
    if (!reg) return sink.OnRowError({row, "registered", "registered must be a date YYYY-MM-DD", "bad_date"});
    p.registered = *reg;
    if (j.contains("valid_until") && !j["valid_until"].is_null()) {
      auto until = ParseIsoDate(Str(j, "valid_until"));
      if (!until) {
        return sink.OnRowError({row, "valid_until", "valid_until must be null or a date YYYY-MM-DD", "bad_date"});
      }
      p.valid_until = *until;
    }
    (void)where;
    return sink.OnPerson(row, std::move(p));
  }

  static Status Cell(const json& j, uint64_t row, const std::string& where, const AdapterContext& ctx,
                     RecordSink& sink) {
    CellRecord c{Str(j, "pop_type"), Str(j, "coo"), Str(j, "sex"), Str(j, "age"), Str(j, "region"), 0};
    if (auto bad = CodesProblem(c.pop_type, c.coo, c.sex, c.age, c.region, ctx.country); !bad.empty()) {
      return Status::InvalidArgument(where + ": field \"" + bad + "\" is not a code of the shared schema");
    }
    if (!j.contains("count") || !j["count"].is_number_unsigned() || j["count"].get<uint64_t>() > 10000000) {
      return Status::InvalidArgument(where + ": \"count\" must be a whole number from 0 to 10000000");
    }
    c.count = static_cast<int64_t>(j["count"].get<uint64_t>());
    return sink.OnCell(row, std::move(c));
  }
};

}  // namespace

std::unique_ptr<Adapter> NewAdapter() { return std::make_unique<SharedV1Adapter>(); }

std::string HeaderLine(const std::string& source_profile, const std::string& country,
                       const std::string& ref_date) {
  return json{{"type", "header"},
              {"profile", "shared-v1"},
              {"source_profile", source_profile},
              {"country", country},
              {"ref_date", ref_date}}
             .dump() +
         "\n";
}

std::string PersonLine(uint64_t row, const std::string& person_key_hex, const PersonRecord& p) {
  nlohmann::ordered_json j = {{"type", "person"}, {"row", row},     {"person_key", person_key_hex},
                              {"pop_type", p.pop_type}, {"coo", p.coo}, {"sex", p.sex},
                              {"age", p.age},       {"region", p.region},
                              {"registered", p.registered.ToIso()}};
  j["valid_until"] = p.valid_until ? nlohmann::ordered_json(p.valid_until->ToIso()) : nullptr;
  return j.dump() + "\n";
}

std::string CellLine(uint64_t row, const CellRecord& c) {
  return nlohmann::ordered_json{{"type", "cell"}, {"row", row},     {"pop_type", c.pop_type},
                                {"coo", c.coo},   {"sex", c.sex},   {"age", c.age},
                                {"region", c.region}, {"count", c.count}}
             .dump() +
         "\n";
}

std::string ErrorLine(const RowError& e) {
  return nlohmann::ordered_json{{"type", "error"}, {"row", e.row}, {"field", e.field},
                                {"reason", e.reason}, {"kind", e.kind}}
             .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) +
         "\n";
}

GW_REGISTER_ADAPTER(shared_v1, AdapterInfo{"shared-v1", "",
                                           "the shared schema as NDJSON, pseudonymised at source "
                                           "(what gateway push sends)",
                                           {"utf-8"},
                                           "application/x-ndjson",
                                           [] { return NewAdapter(); }});

}  // namespace gw::shared_v1
