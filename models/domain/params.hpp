// A domain's parameters, as the scenario's "domains" array gives them (the loader fills
// these; defaults and sources: the domain parameter table, sim/scenario.cpp).
#pragma once
#include <cstdint>
#include <string>

#include "models/common/enum_table.hpp"

namespace iopf {

enum class DomainKind : uint8_t { kPinned, kSharedTdp };
inline constexpr EnumTable<DomainKind, 2> kDomainKindNames{
    {{DomainKind::kPinned, "pinned"}, {DomainKind::kSharedTdp, "shared_tdp"}}};

// What a shared-TDP domain pins (seed 000's options).
enum class Policy : uint8_t {
  kPinAll,              // classic VFIO: everything pinned and mapped
  kFaultAll,            // naive shared TDP: nothing pinned, everything faults in
  kPinIntolerantPaths,  // pin (pre-fault) what paths that cannot fault touch; fault the rest
  kAllowList,           // fault only if every attached device tolerates faults on every path
};
inline constexpr EnumTable<Policy, 4> kPolicyNames{{{Policy::kPinAll, "pin_all"},
                                                    {Policy::kFaultAll, "fault_all"},
                                                    {Policy::kPinIntolerantPaths, "pin_intolerant_paths"},
                                                    {Policy::kAllowList, "allow_list"}}};

struct DomainSpec {
  std::string name;
  DomainKind kind = DomainKind::kPinned;
  std::string format;
  uint64_t memory_bytes = 0;  // guest memory, IOVA (= GPA) 0 .. memory_bytes
  uint64_t page_bytes = 0;    // leaf size to map with; 0 = largest the format and alignment allow
  double resident_fraction = 0;
  uint64_t pin_ns_per_4k = 0;
  uint64_t fault_ns = 0;      // host work to make one absent page present (minor fault)
  uint64_t major_fault_ns = 0;  // extra host work of a major fault (besides the swap-in I/O)
  Policy policy = Policy::kFaultAll;
  double vcpu_touch_rate_per_s = 0;   // guest vCPU accesses to random pages, all vCPUs
  uint32_t vcpus = 1;
  double migration_rate_per_s = 0;    // page migrations (compaction, NUMA balancing)
  uint64_t migration_copy_ns = 0;
  double thp_collapse_rate_per_s = 0; // khugepaged collapse attempts (page_size 2MiB domains)
  uint64_t thp_collapse_copy_ns = 0;
  uint64_t dirty_log_interval_ns = 0; // write-protect cycle of dirty logging (0: off)
  uint64_t dirty_log_start_ns = 0;
};

}  // namespace iopf
