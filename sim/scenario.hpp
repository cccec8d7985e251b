// The typed scenario: what a scenario file says, validated and with units normalized
// (ns, bytes, per-second). Built only by load_scenario(); the engine never sees JSON.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/device/params.hpp"
#include "models/domain/params.hpp"
#include "models/host/params.hpp"
#include "models/iommu/params.hpp"

namespace iopf {

// Failures a test injects on purpose.
enum class Inject : uint8_t { kNone, kLostCompletion, kDeadlock, kActorException };
inline constexpr EnumTable<Inject, 4> kInjectNames{{{Inject::kNone, "none"},
                                                    {Inject::kLostCompletion, "lost_completion"},
                                                    {Inject::kDeadlock, "deadlock"},
                                                    {Inject::kActorException, "actor_exception"}}};

struct EngineSpec {
  uint64_t quantum_ns = 0;
  bool checker = false;
  bool unsafe_batching = false;  // tests only: no clamp, no drain
  Inject inject = Inject::kNone;  // tests only
};

struct Scenario {
  std::string file;
  std::string name;
  std::vector<std::string> comment;
  uint64_t seed = 0;
  uint64_t duration_ns = 0;  // the measurement window
  uint64_t warmup_ns = 0;    // before it, from when each domain is ready
  HostSpec host;
  IommuSpec iommu;
  EngineSpec engine;
  std::vector<DomainSpec> domains;
  std::vector<DeviceSpec> devices;
  std::vector<InvalidationSpec> invalidations;
};

// What domain domain_index pins: its kind's plan, given the devices attached to it.
PinPlan pin_plan(const Scenario& sc, size_t domain_index);

// One past the highest IOVA a workload on domain dom may reach: the guest's memory or, with
// reaches_outside_memory, its page-table format's whole address space.
uint64_t workload_iova_limit(const DomainSpec& dom, bool reaches_outside_memory);

// Reads, applies overrides ("/pointer=value", value parsed as JSON or else taken as a
// string) and validates. Throws InputError naming the file and JSON pointer.
Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides = {});
Scenario parse_scenario(const nlohmann::json& doc, const std::string& file);

}  // namespace iopf
