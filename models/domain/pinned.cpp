// Domain kind "pinned" (classic VFIO type1): at VM start every guest page is pinned
// (pin_user_pages) and mapped, with the largest leaves alignment allows (or page_size). No
// I/O page fault ever happens; the price is start-up time (pin_cost_per_4k per 4 KiB page)
// and memory that can never be reclaimed, migrated or overcommitted.
// Does not model: the VFIO DMA-map ioctl path, page-table memory accounting by the host.
#include "models/common/params.hpp"
#include "models/domain/kinds.hpp"

#include <nlohmann/json.hpp>

namespace iopf {

namespace {

const ParamTable kPinnedTable{"domain (kind pinned)", {}};

class PinnedDomain final : public Domain {
 public:
  using Domain::Domain;
  void report(nlohmann::json* out) const override {
    (*out)["policy"] = "pin_all";  // what a pinned domain does, named as shared_tdp's policies are
    (*out)["effective_policy"] = "pin_all";
  }
};

std::shared_ptr<const DomainKindParams> read(const ObjReader&, const DomainSpec&) { return nullptr; }

PinPlan pin_plan(const DomainSpec& spec, const std::vector<const DeviceSpec*>&) {
  return PinPlan{true, {}, spec.memory_bytes};
}

std::unique_ptr<Domain> make(const DomainSpec& spec, uint32_t id) { return std::make_unique<PinnedDomain>(spec, id); }

}  // namespace

extern const DomainKindInfo kPinnedKind{
    "pinned", "all guest memory pinned and mapped at start (classic VFIO type1); never faults", &kPinnedTable, read,
    pin_plan, make, false};

}  // namespace iopf
