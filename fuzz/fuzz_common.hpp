// The valid base scenario the fuzz targets mutate: scenarios/quickstart.json, read once.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>

#include "models/common/params.hpp"
#include "sim/scenario.hpp"

namespace iopf_fuzz {

inline const nlohmann::json& base_scenario() {
  static const nlohmann::json base = [] {
    try {
      return iopf::parse_scenario_json(iopf::read_scenario_file(IOPFSIM_FUZZ_BASE), IOPFSIM_FUZZ_BASE);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "fuzz: cannot read the base scenario: %s\n", e.what());
      std::abort();
    }
  }();
  return base;
}

// What every accepted scenario promises the engine. A violation is a loader bug: abort, so
// libFuzzer keeps the input.
inline void check_invariants(const iopf::Scenario& sc) {
  auto require = [](bool ok, const char* what) {
    if (!ok) {
      std::fprintf(stderr, "fuzz: accepted scenario breaks an invariant: %s\n", what);
      std::abort();
    }
  };
  auto inside = [](uint64_t base, uint64_t bytes, uint64_t limit) {
    return bytes > 0 && base + bytes >= base && base + bytes <= limit;
  };
  require(!sc.domains.empty() && !sc.devices.empty(), "at least one domain and one device");
  require(sc.duration_ns > 0, "a positive duration");
  for (const iopf::DeviceSpec& d : sc.devices) {
    require(d.domain_index < sc.domains.size(), "device domain index in range");
    require(!d.paths.empty(), "every device has a path");
    for (const iopf::PathSpec& p : d.paths) {
      const iopf::WorkloadSpec& w = p.workload;
      require(inside(w.region_base, w.region_bytes, sc.domains[d.domain_index].memory_bytes),
              "workload region inside its domain");
      require((w.rate_per_s > 0) != (w.outstanding > 0), "exactly one of rate and outstanding");
      require(w.access_bytes > 0 && w.region_bytes >= w.access_bytes, "access fits the region");
    }
  }
  for (const iopf::InvalidationSpec& inv : sc.invalidations) {
    require(inv.domain_index < sc.domains.size(), "invalidation domain index in range");
    require(inside(inv.region_base, inv.region_bytes, sc.domains[inv.domain_index].memory_bytes),
            "invalidation region inside its domain");
    require(inv.range_bytes > 0 && (inv.range_bytes & (inv.range_bytes - 1)) == 0, "range a power of two");
  }
  for (size_t i = 0; i < sc.domains.size(); ++i) (void)iopf::pin_plan(sc, i);
}

}  // namespace iopf_fuzz
