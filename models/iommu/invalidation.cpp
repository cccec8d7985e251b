#include "models/iommu/invalidation.hpp"

#include "models/iommu/checker.hpp"

namespace iopf {

InvFilter inv_filter(InvKind kind, uint32_t domain_id, uint32_t pasid, uint64_t lo, uint64_t hi) {
  switch (kind) {
    case InvKind::kPage:
    case InvKind::kRange: return InvFilter{make_asid(domain_id, 0), kAsidDomainMask, lo, hi};
    case InvKind::kDomain: return InvFilter{make_asid(domain_id, 0), kAsidDomainMask, 0, ~0ULL};
    case InvKind::kPasid: return InvFilter{make_asid(domain_id, pasid), ~0ULL, 0, ~0ULL};
    case InvKind::kGlobal: return InvFilter{0, 0, 0, ~0ULL};
  }
  return InvFilter{};
}

uint64_t invalidate_changed(Invalidator& inv, Checker* checker, size_t dom_index, uint32_t domain_id, InvKind kind,
                            InvReason reason, uint64_t lo, uint64_t hi, InvPort* port) {
  std::vector<uint64_t> keys;
  if (checker) keys = checker->on_zap(domain_id, lo, hi);
  const uint64_t t = inv.invalidate(dom_index, kind, reason, {inv_filter(kind, domain_id, 0, lo, hi)}, port);
  if (checker) checker->on_complete(keys, t);
  return t;
}

}  // namespace iopf
