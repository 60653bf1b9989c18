#include "gateway/privacy/disclosure.h"

#include <algorithm>
#include <list>
#include <map>
#include <mutex>
#include <unordered_map>

#include "gateway/common/lru_cache.h"
#include "gateway/privacy/noise.h"
#include "gateway/privacy/sdc.h"
#include "gateway/schema/codelists.h"

namespace gw {
namespace {

// The tables a request covers: `by` alone, with totals every subset of it, or
// `by` and the listed margins. Each is a bit mask over `by`. Summing pop_type is
// only a total when the grant covers every population type of the registers
// (see the query engine).
std::vector<uint32_t> Nodes(const ProtectionRequest& req) {
  const uint32_t full = (1u << req.by.size()) - 1;
  std::vector<uint32_t> wanted;
  if (req.totals) {
    for (uint32_t mask = full + 1; mask-- > 0;) wanted.push_back(mask);
  } else {
    wanted.push_back(full);
    for (const auto& margin : req.margins) {
      uint32_t mask = 0;
      for (size_t i = 0; i < req.by.size(); ++i) {
        if (std::find(margin.begin(), margin.end(), req.by[i]) != margin.end()) mask |= 1u << i;
      }
      if (std::find(wanted.begin(), wanted.end(), mask) == wanted.end()) wanted.push_back(mask);
    }
  }
  bool partial_pop_types = false;
  for (const auto& p : CodeLists::Get().pop_types()) {
    if (p.Extra("in_registers") == "yes" && !req.grant->AllowsPopType(p.code)) partial_pop_types = true;
  }
  std::vector<uint32_t> nodes;
  for (uint32_t mask : wanted) {
    bool sums_pop_type = false;
    for (size_t i = 0; i < req.by.size(); ++i) {
      if (req.by[i] == Dim::kPopType && !(mask & (1u << i))) sums_pop_type = true;
    }
    if (!(sums_pop_type && partial_pop_types)) nodes.push_back(mask);
  }
  return nodes;
}

std::vector<Dim> NodeDims(const ProtectionRequest& req, uint32_t mask) {
  std::vector<Dim> dims;
  for (size_t i = 0; i < req.by.size(); ++i)
    if (mask & (1u << i)) dims.push_back(req.by[i]);
  return dims;
}

// Filters for reading one node: a summed dimension is summed over all its codes
// (a total, never a sum over a chosen subset), population types always over the
// granted ones.
DimFilters NodeFilters(const ProtectionRequest& req, const std::vector<Dim>& dims) {
  DimFilters f;
  for (Dim d : dims) f[DimIndex(d)] = req.filters[DimIndex(d)];
  auto& pop = f[DimIndex(Dim::kPopType)];
  if (pop.empty()) pop = req.grant->pop_types;
  return f;
}

// Output values in the order of req.by, "_T" for dimensions outside the node.
std::vector<std::string> OutputValues(const ProtectionRequest& req, uint32_t mask,
                                      const std::vector<std::string>& node_values) {
  std::vector<std::string> out;
  size_t next = 0;
  for (size_t i = 0; i < req.by.size(); ++i) {
    out.push_back(mask & (1u << i) ? node_values[next++] : std::string(kTotalCode));
  }
  return out;
}

Result<ProtectedTable> ProtectNone(const ProtectionRequest& req) {
  ProtectedTable out;
  for (uint32_t mask : Nodes(req)) {
    auto dims = NodeDims(req, mask);
    GW_ASSIGN_OR_RETURN(auto rows, req.read(dims, NodeFilters(req, dims)));
    for (auto& row : rows) out.cells.push_back({OutputValues(req, mask, row.values), row.count, 'A'});
  }
  return out;
}

// ---- dp ----

// The codes a dimension can take in one country's table.
std::vector<std::string> Domain(const ProtectionRequest& req, Dim d) {
  const auto& filter = req.filters[DimIndex(d)];
  const auto& lists = CodeLists::Get();
  std::vector<std::string> codes;
  switch (d) {
    case Dim::kPopType:
      for (const auto& p : filter.empty() ? req.grant->pop_types : filter) codes.push_back(p);
      return codes;
    case Dim::kCoo:
      if (!filter.empty()) return filter;
      for (const auto& c : lists.countries()) codes.push_back(c.alpha3);
      return codes;
    case Dim::kSex:
      if (!filter.empty()) return filter;
      for (const auto& s : lists.sexes()) codes.push_back(s.code);
      return codes;
    case Dim::kAge:
      if (!filter.empty()) return filter;
      for (const auto& a : lists.age_bands()) codes.push_back(a.code);
      return codes;
    case Dim::kRegion:
      // Only the owner's regions: another country's region is not a cell of this table.
      for (const auto& r : lists.regions()) {
        if (r.country != req.snapshot->country) continue;
        if (filter.empty() || std::find(filter.begin(), filter.end(), r.code) != filter.end()) {
          codes.push_back(r.code);
        }
      }
      return codes;
    case Dim::kCoa:
      break;
  }
  return codes;
}

std::string JoinKey(const std::vector<std::string>& values) {
  std::string key;
  for (const auto& v : values) key.append(v).push_back('\x1f');
  return key;
}

Result<ProtectedTable> ProtectDp(const ProtectionRequest& req, const DisclosureSettings& settings) {
  const Grant& g = *req.grant;
  if (settings.noise_master.empty()) {
    return Status::Unavailable("differential privacy is not configured on this gateway (no noise key)");
  }
  const auto nodes = Nodes(req);
  // Size first: the whole domain is computed, so refuse before doing any work.
  std::vector<std::vector<std::vector<std::string>>> domains;
  int64_t total_cells = 0;
  for (uint32_t mask : nodes) {
    std::vector<std::vector<std::string>> domain;
    int64_t cells = 1;
    for (Dim d : NodeDims(req, mask)) {
      domain.push_back(Domain(req, d));
      cells *= static_cast<int64_t>(domain.back().size());
      if (cells > settings.dp_max_cells) break;
    }
    total_cells += cells;
    if (total_cells > settings.dp_max_cells) {
      return Status::InvalidArgument(
          "the table has more than " + std::to_string(settings.dp_max_cells) + " cells for " +
          req.snapshot->country + " (dp adds noise to every cell, zero cells included); restrict "
          "it with filters such as coo= or break down by fewer dimensions");
    }
    domains.push_back(std::move(domain));
  }
  GW_ASSIGN_OR_RETURN(SnapshotNoise noise,
                      SnapshotNoise::Create(settings.noise_master, req.snapshot->country,
                                            req.snapshot->ref_date, req.snapshot->version));
  const int64_t shown_from = std::max<int64_t>(1, g.threshold);
  ProtectedTable out;
  for (size_t n = 0; n < nodes.size(); ++n) {
    auto dims = NodeDims(req, nodes[n]);
    out.tables.push_back(TableKey(dims));
    GW_ASSIGN_OR_RETURN(auto rows, req.read(dims, NodeFilters(req, dims)));
    std::unordered_map<std::string, int64_t> exact;
    for (const auto& r : rows) exact[JoinKey(r.values)] = r.count;
    const auto& domain = domains[n];
    if (std::any_of(domain.begin(), domain.end(), [](const auto& d) { return d.empty(); })) continue;
    // Odometer over the domain's cross product.
    std::vector<size_t> at(dims.size(), 0);
    std::vector<std::string> values(dims.size());
    std::vector<std::pair<Dim, std::string>> cell(dims.size());
    while (true) {
      for (size_t i = 0; i < dims.size(); ++i) {
        values[i] = domain[i][at[i]];
        cell[i] = {dims[i], values[i]};
      }
      auto it = exact.find(JoinKey(values));
      int64_t noisy = (it == exact.end() ? 0 : it->second) +
                      noise.Noise(CanonicalCell(req.snapshot->country, cell), g.epsilon_micro);
      if (noisy >= 1) {
        bool shown = noisy >= shown_from;
        out.cells.push_back({OutputValues(req, nodes[n], values),
                             shown ? std::optional<int64_t>(noisy) : std::nullopt, shown ? 'E' : 'Q'});
      }
      size_t i = dims.size();
      while (i > 0 && ++at[i - 1] == domain[i - 1].size()) at[--i] = 0;
      if (i == 0) break;
    }
  }
  return out;
}

// ---- sdc ----

using Lattice = std::vector<sdc::Cell>;

using LatticeCache = LruCache<Lattice>;

// The protected table's dimensions: the query's own (never coa), in lattice
// order, so that every spelling of the same table shares one pattern.
std::vector<Dim> LatticeDims(const ProtectionRequest& req) {
  std::vector<Dim> dims;
  for (Dim d : kAllDims)
    if (d != Dim::kCoa && std::find(req.by.begin(), req.by.end(), d) != req.by.end()) dims.push_back(d);
  return dims;
}

// Suppressed cells up to which the exact recomputability check runs; above
// it the pattern is not proven safe and the table is refused (fail closed).
constexpr size_t kSdcExactCheckLimit = 2000;

Result<std::shared_ptr<const Lattice>> SdcLattice(const ProtectionRequest& req, LatticeCache& cache) {
  const Grant& g = *req.grant;
  const auto dims = LatticeDims(req);
  std::string key = std::to_string(req.snapshot->id) + "|" + TableKey(dims) + "|" +
                    std::to_string(g.threshold) + "|";
  for (const auto& p : g.pop_types) key += p + ",";
  if (auto hit = cache.Get(key)) return hit;
  DimFilters f;
  f[DimIndex(Dim::kPopType)] = g.pop_types;
  GW_ASSIGN_OR_RETURN(auto rows, req.read(dims, f));
  std::vector<sdc::InteriorCell> interior;
  interior.reserve(rows.size());
  for (auto& r : rows) interior.push_back({std::move(r.values), r.count});
  GW_ASSIGN_OR_RETURN(auto cells, sdc::Protect(dims.size(), interior,
                                               sdc::Options{g.threshold, kSdcExactCheckLimit}));
  size_t suppressed = 0;
  for (const auto& c : cells) suppressed += c.suppressed ? 1 : 0;
  // One dimension is a single line, where hiding two entries is enough; from
  // two on only the exact check proves that nothing can be recomputed.
  if (dims.size() >= 2 && suppressed > kSdcExactCheckLimit) {
    return Status::Unavailable("the table by " + TableKey(dims) + " has " + std::to_string(suppressed) +
                               " suppressed cells, too many to prove that none can be recomputed; "
                               "ask for fewer dimensions");
  }
  auto lattice = std::make_shared<const Lattice>(std::move(cells));
  cache.Put(key, lattice, lattice->size());
  return lattice;
}

Result<ProtectedTable> ProtectSdc(const ProtectionRequest& req, LatticeCache& cache) {
  const Grant& g = *req.grant;
  GW_ASSIGN_OR_RETURN(auto lattice, SdcLattice(req, cache));
  const auto dims = LatticeDims(req);
  // Where each lattice dimension sits in req.by.
  std::vector<size_t> pos(dims.size(), 0);
  for (size_t i = 0; i < dims.size(); ++i) {
    for (size_t j = 0; j < req.by.size(); ++j)
      if (req.by[j] == dims[i]) pos[i] = j;
  }
  std::vector<uint32_t> nodes = Nodes(req);
  ProtectedTable out;
  for (const sdc::Cell& c : *lattice) {
    uint32_t mask = 0;
    bool wanted = true;
    for (size_t i = 0; i < dims.size() && wanted; ++i) {
      if (c.values[i] == sdc::kTotalCode) continue;
      mask |= 1u << pos[i];
      const auto& filter = req.filters[DimIndex(dims[i])];
      wanted = filter.empty() || std::find(filter.begin(), filter.end(), c.values[i]) != filter.end();
    }
    if (!wanted || std::find(nodes.begin(), nodes.end(), mask) == nodes.end()) continue;
    std::vector<std::string> values(req.by.size());
    for (size_t i = 0; i < dims.size(); ++i) values[pos[i]] = c.values[i];
    if (c.suppressed) {
      out.cells.push_back({std::move(values), std::nullopt, 'Q'});
    } else {
      out.cells.push_back({std::move(values), RoundToBase(c.count, g.rounding), g.rounding > 1 ? 'E' : 'A'});
    }
  }
  return out;
}

// Everything a protected table depends on: the snapshot version, the grant's
// parameters and the request. Same key, same cells (dp noise is deterministic).
std::string AnswerKey(const ProtectionRequest& req) {
  const Grant& g = *req.grant;
  std::string key = std::to_string(req.snapshot->id) + "|" + MechanismName(g.mechanism) + "|" +
                    std::to_string(g.epsilon_micro) + "|" + std::to_string(g.threshold) + "|" +
                    std::to_string(g.rounding) + "|" + (req.totals ? "T" : "-") + "|";
  for (const auto& p : g.pop_types) key += p + ",";
  key += "|";
  for (Dim d : req.by) key += std::string(DimName(d)) + ",";
  for (Dim d : kAllDims) {
    key += "|";
    for (const auto& code : req.filters[DimIndex(d)]) key += code + ",";
  }
  for (const auto& margin : req.margins) {
    key += "|m";
    for (Dim d : margin) key += std::string(DimName(d)) + ",";
  }
  return key;
}

class StandardDisclosureControl : public DisclosureControl {
 public:
  explicit StandardDisclosureControl(DisclosureSettings settings)
      : settings_(std::move(settings)),
        lattices_(settings_.cache_cells),
        answers_(settings_.cache_cells) {}

  Result<std::shared_ptr<const ProtectedTable>> Protect(const ProtectionRequest& req) override {
    const std::string key = AnswerKey(req);
    if (auto hit = answers_.Get(key)) return hit;
    Result<ProtectedTable> table = Status::Internal("unknown mechanism");
    switch (req.grant->mechanism) {
      case Mechanism::kNone: table = ProtectNone(req); break;
      case Mechanism::kSdc: table = ProtectSdc(req, lattices_); break;
      case Mechanism::kDp: table = ProtectDp(req, settings_); break;
    }
    if (!table.ok()) return table.status();
    auto shared = std::make_shared<const ProtectedTable>(std::move(table).value());
    answers_.Put(key, shared, shared->cells.size() + 1);
    return shared;
  }

 private:
  DisclosureSettings settings_;
  LatticeCache lattices_;
  LruCache<ProtectedTable> answers_;
};

}  // namespace

std::unique_ptr<DisclosureControl> MakeDisclosureControl(DisclosureSettings settings) {
  return std::make_unique<StandardDisclosureControl>(std::move(settings));
}

std::string TableKey(const std::vector<Dim>& dims) {
  std::vector<std::string> names;
  for (Dim d : dims) names.emplace_back(DimName(d));
  std::sort(names.begin(), names.end());
  std::string key;
  for (const auto& n : names) key += (key.empty() ? "" : ",") + n;
  return key.empty() ? "total" : key;
}

int64_t RoundToBase(int64_t value, int64_t base) {
  if (base <= 1) return value;
  return (value + base / 2) / base * base;
}

}  // namespace gw
