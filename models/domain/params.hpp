// A domain's parameters as the scenario's "domains" array gives them: the keys every kind
// has (the loader fills them; defaults and sources: the domain parameter table,
// sim/scenario.cpp) and the kind's own, which its file declares and reads.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace iopf {

struct DomainKindInfo;
struct DomainKindParams;

// What a domain pins at start, decided by its kind (and policy) and the devices attached.
struct PinPlan {
  bool all = false;  // every page pinned and mapped
  std::vector<std::pair<uint64_t, uint64_t>> ranges;  // else these: merged, 4 KiB-aligned
  uint64_t bytes = 0;
};

struct DomainSpec {
  std::string name;
  const DomainKindInfo* kind = nullptr;
  std::shared_ptr<const DomainKindParams> kind_params;  // the kind's own keys
  std::string format;
  uint64_t memory_bytes = 0;  // guest memory, IOVA (= GPA) 0 .. memory_bytes
  uint64_t page_bytes = 0;    // leaf size to map with; 0 = largest the format and alignment allow
  uint64_t pin_ns_per_page = 0;  // per 4 KiB page pinned, besides zeroing it
};

}  // namespace iopf
