// Every model object of one run, built from a scenario; no SimGrid in here, so tests and
// benchmarks can drive the models directly. The engine (sim/engine.cpp) adds time.
#pragma once
#include <memory>
#include <vector>

#include "models/device/device.hpp"
#include "models/device/root_complex.hpp"
#include "models/domain/domain.hpp"
#include "models/host/activity.hpp"
#include "models/host/host_memory.hpp"
#include "models/iommu/checker.hpp"
#include "models/iommu/iommu.hpp"
#include "sim/scenario.hpp"

namespace iopf {

struct System {
  explicit System(const Scenario& scenario);
  System(const System&) = delete;
  System& operator=(const System&) = delete;

  Scenario sc;
  Iommu iommu;
  RootComplex root_complex;  // shared bandwidth, before devices (they point to it)
  std::vector<std::unique_ptr<Domain>> domains;
  std::vector<std::unique_ptr<Device>> devices;
  HostMemory memory;
  HostActivity activity;
  std::unique_ptr<Checker> checker;  // engine.checker
};

}  // namespace iopf
