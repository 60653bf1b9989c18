#include "gateway/privacy/disclosure.h"

namespace gw {
namespace {

class BasicDisclosureControl : public DisclosureControl {
 public:
  Result<std::vector<ProtectedCell>> Protect(const ProtectionRequest& req) override {
    const Grant& g = *req.grant;
    std::vector<ProtectedCell> out;
    out.reserve(req.exact.size());
    switch (g.mechanism) {
      case Mechanism::kNone:
        for (const auto& row : req.exact) out.push_back(ProtectedCell{row.values, row.count, 'A'});
        return out;
      case Mechanism::kSdc:
        for (const auto& row : req.exact) {
          if (row.count < g.threshold) {
            out.push_back(ProtectedCell{row.values, std::nullopt, 'Q'});
          } else {
            out.push_back(ProtectedCell{row.values, RoundToBase(row.count, g.rounding),
                                            g.rounding > 1 ? 'E' : 'A'});
          }
        }
        return out;
      case Mechanism::kDp:
        return Status::Unavailable(
            "the grant's mechanism \"dp\" is not available on this gateway version, so its data "
            "are withheld");
    }
    return Status::Internal("unknown mechanism");
  }
};

}  // namespace

std::unique_ptr<DisclosureControl> MakeDisclosureControl() {
  return std::make_unique<BasicDisclosureControl>();
}

int64_t RoundToBase(int64_t value, int64_t base) {
  if (base <= 1) return value;
  return (value + base / 2) / base * base;
}

}  // namespace gw
