// Every model object of one run, built from a scenario; no SimGrid in here, so tests and
// benchmarks can drive the models directly.
#pragma once
#include <memory>
#include <vector>

#include "models/device/device.hpp"
#include "models/domain/domain.hpp"
#include "models/iommu/iommu.hpp"
#include "sim/scenario.hpp"

namespace iopf {

struct System {
  explicit System(const Scenario& scenario);
  System(const System&) = delete;
  System& operator=(const System&) = delete;

  Scenario sc;
  Iommu iommu;
  std::vector<std::unique_ptr<Domain>> domains;
  std::vector<std::unique_ptr<Device>> devices;

  // Page request queue occupancy (requests received and not yet answered).
  uint64_t prq_depth = 0;
  uint64_t prq_max_depth = 0;
};

}  // namespace iopf
