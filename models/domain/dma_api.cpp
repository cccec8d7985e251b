#include "models/domain/dma_api.hpp"

#include <nlohmann/json.hpp>

#include "models/host/services.hpp"
#include "models/iommu/checker.hpp"
#include "models/iommu/iommu.hpp"

namespace iopf {

void DmaApiEnv::cpu(uint64_t ns) {
  stats_.cpu_ns += ns;
  svc_.cpu_work(ns);
}

void DmaApiEnv::trap(TrapCause cause, uint64_t exit_ns, uint64_t vmm_ns) {
  ++stats_.traps[static_cast<int>(cause)];
  stats_.trap_cpu_ns += exit_ns + vmm_ns;
  cpu(exit_ns + vmm_ns);
}

uint64_t DmaApiEnv::flush(const IommuDomain& view, InvKind kind, uint64_t lo, uint64_t hi,
                          const std::vector<uint64_t>& keys) {
  ++stats_.flushes;
  const uint64_t t0 = svc_.now_ns();
  const uint64_t t = inv_.invalidate(dom_index_, kind, InvReason::kDmaApi, {inv_filter(kind, view.id, 0, lo, hi)}, port_);
  // The caller spins on the wait descriptor's status meanwhile (Linux qi_submit_sync polls it).
  stats_.flush_wait_ns += t - t0;
  stats_.cpu_ns += t - t0;
  if (checker_) checker_->on_complete(keys, t);
  return t;
}

void dma_api_json(const DmaApiStats& s, nlohmann::json* out) {
  (*out)["maps"] = {{"count", s.map_latency_ns.count()}, {"pages", s.map_pages},
                    {"latency_ns", histogram_json(s.map_latency_ns)}};
  (*out)["unmaps"] = {{"count", s.unmap_latency_ns.count()}, {"pages", s.unmap_pages},
                      {"latency_ns", histogram_json(s.unmap_latency_ns)}};
  (*out)["dma_api"] = {{"cpu_ns", s.cpu_ns},
                       {"flush_wait_ns", s.flush_wait_ns},
                       {"flushes", s.flushes},
                       {"flush_queue_flushes", s.flush_queue_flushes},
                       {"max_pinned_pages", s.max_pinned_pages}};
}

void traps_json(const DmaApiStats* s, nlohmann::json* out) {
  nlohmann::json by = nlohmann::json::object();
  uint64_t n = 0;
  for (int c = 0; c < kTrapCauses; ++c) {
    const uint64_t k = s ? s->traps[c] : 0;
    by[enum_name(kTrapCauseNames, static_cast<TrapCause>(c))] = k;
    n += k;
  }
  (*out)["traps"] = {{"count", n}, {"by_cause", by}, {"cpu_ns", s ? s->trap_cpu_ns : 0}};
}

}  // namespace iopf
