#include "sim/system.hpp"

#include "models/common/streams.hpp"
#include "models/domain/kinds.hpp"

namespace iopf {

System::System(const Scenario& scenario)
    : sc(scenario), memory(sc.host, &domains), activity(&domains, &memory, sc.seed, sc.host.dirty_log_ns_per_page) {
  iommu.configure(sc.iommu.iotlb, sc.iommu.walk_cache.entries, sc.iommu.walk_cache.ways, sc.iommu.walk_cache.policy,
                  IommuTiming{sc.iommu.iotlb_lookup_ns, sc.iommu.walk_mem_read_ns, sc.iommu.ats_translation_ns});
  // Shared calendars keep two batch quanta of bins: device actors run at most one apart.
  const uint64_t keep_ns = 2 * sc.engine.quantum_ns;
  iommu.configure_contention(sc.iommu.walkers, keep_ns);
  root_complex.configure(sc.host.root_complex_bytes_per_s, keep_ns);
  // Pinned memory first (validation guarantees it fits), then what each domain touched
  // before the run, while the host has room above its free target.
  for (size_t i = 0; i < sc.domains.size(); ++i) {
    domains.push_back(sc.domains[i].kind->make(sc.domains[i], static_cast<uint32_t>(i)));
    domains.back()->apply_pin_plan(pin_plan(sc, i));
    domains.back()->seed_costs(sc.seed);
    memory.use(static_cast<int64_t>(domains.back()->pinned_request_bytes()));
  }
  for (size_t i = 0; i < domains.size(); ++i) {
    Domain& d = *domains[i];
    const uint64_t pinned = d.pinned_request_bytes();
    const uint64_t used = memory.used_bytes();
    const uint64_t avail = sc.host.memory_bytes > used + sc.host.free_target_bytes
                               ? sc.host.memory_bytes - used - sc.host.free_target_bytes
                               : 0;
    Rng rng(sc.seed, streams::domain_setup(d.spec().name));
    const uint64_t took = d.setup(rng, avail + pinned);
    memory.use(static_cast<int64_t>(took - pinned));
  }
  for (size_t i = 0; i < sc.devices.size(); ++i) {
    const DeviceSpec& ds = sc.devices[i];
    DeviceTiming t;
    t.pcie_latency_ns = ds.pcie_latency_ns;
    t.memory_latency_ns = sc.host.memory_latency_ns;
    t.ats_translation_ns = sc.iommu.ats_translation_ns;
    t.ps_per_byte = 1e12 / ds.pcie_bandwidth_bytes_per_s;
    t.walk_sets_accessed = sc.iommu.walks_set_accessed;
    devices.push_back(std::make_unique<Device>(ds, domains[ds.domain_index].get(), &iommu, t, sc.seed));
    devices.back()->set_root_complex(&root_complex);
    for (const PathSpec& p : ds.paths)
      if (p.workload.dma.mode != DmaApiMode::kNone) domains[ds.domain_index]->enable_dma_api();
  }
  if (sc.engine.inject == Inject::kLostCompletion)
    for (auto& d : devices)
      for (Path& p : d->paths()) p.lose_one_completion();
  if (sc.engine.checker) {
    checker = std::make_unique<Checker>();
    for (auto& d : devices) d->checker = checker.get();
  }
}

}  // namespace iopf
