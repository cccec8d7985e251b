#include "sim/system.hpp"

namespace iopf {

System::System(const Scenario& scenario) : sc(scenario) {
  iommu.configure(sc.iommu.iotlb, sc.iommu.walk_cache.entries, sc.iommu.walk_cache.ways, sc.iommu.walk_cache.policy,
                  IommuTiming{sc.iommu.iotlb_lookup_ns, sc.iommu.walk_mem_read_ns});
  // Random stream ids: 0..63 domains, 1000 + 100*device + path for paths.
  for (size_t i = 0; i < sc.domains.size(); ++i) {
    domains.push_back(std::make_unique<Domain>(sc.domains[i], static_cast<uint32_t>(i)));
    Rng rng(sc.seed, i);
    domains.back()->setup(rng);
  }
  for (size_t i = 0; i < sc.devices.size(); ++i) {
    const DeviceSpec& ds = sc.devices[i];
    DeviceTiming t;
    t.pcie_latency_ns = ds.pcie_latency_ns;
    t.memory_latency_ns = sc.host.memory_latency_ns;
    t.ats_translation_ns = sc.iommu.ats_translation_ns;
    t.ps_per_byte = 1e12 / ds.pcie_bandwidth_bytes_per_s;
    devices.push_back(std::make_unique<Device>(ds, domains[ds.domain_index].get(), &iommu, t, sc.seed, 1000 + 100 * i));
  }
  if (sc.engine.checker) {
    checker = std::make_unique<Checker>();
    for (auto& d : devices) d->checker = checker.get();
  }
}

}  // namespace iopf
