// What an invalidation is: its granularity (kind), why it was made (reason), which cached
// translations it selects (InvFilter), and the interface through which models ask for one.
// How long it takes (queue, descriptors, ATS round trips, drain) is the invalidation
// queue's business (sim/invalidation_queue.cpp); models only submit and wait.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "models/cache/set_assoc.hpp"
#include "models/common/enum_table.hpp"

namespace iopf {

class Checker;

enum class InvKind : uint8_t { kPage, kRange, kDomain, kPasid, kGlobal };
constexpr int kInvKinds = 5;
inline constexpr EnumTable<InvKind, kInvKinds> kInvKindNames{{{InvKind::kPage, "page"},
                                                             {InvKind::kRange, "range"},
                                                             {InvKind::kDomain, "domain"},
                                                             {InvKind::kPasid, "pasid"},
                                                             {InvKind::kGlobal, "global"}}};

// Why a stage-2 entry was removed or weakened (MMU-notifier invalidations), or a scripted source.
// kDmaApi: a guest's DMA API unmapped (reported only for domains whose devices use it).
enum class InvReason : uint8_t { kScripted, kReclaim, kThpSplit, kThpCollapse, kMigration, kDirtyLog, kDmaApi };
constexpr int kInvReasons = 7;
inline constexpr EnumTable<InvReason, kInvReasons> kInvReasonNames{{{InvReason::kScripted, "scripted"},
                                                                   {InvReason::kReclaim, "reclaim"},
                                                                   {InvReason::kThpSplit, "thp_split"},
                                                                   {InvReason::kThpCollapse, "thp_collapse"},
                                                                   {InvReason::kMigration, "migration"},
                                                                   {InvReason::kDirtyLog, "dirty_log"},
                                                                   {InvReason::kDmaApi, "dma_api"}}};

// The cached translations an invalidation of `kind` selects in domain domain_id.
InvFilter inv_filter(InvKind kind, uint32_t domain_id, uint32_t pasid, uint64_t lo, uint64_t hi);

// One caller's return address for completions (a host thread waits on its own port).
class InvPort {
 public:
  virtual ~InvPort() = default;
};

// Submits invalidations and blocks the calling actor until they completed.
class Invalidator {
 public:
  virtual ~Invalidator() = default;
  virtual InvPort* open_port(const std::string& owner) = 0;
  // Every filter of domain dom_index (unused for kGlobal); returns the completion time (ns).
  virtual uint64_t invalidate(size_t dom_index, InvKind kind, InvReason reason, const std::vector<InvFilter>& filters,
                              InvPort* port) = 0;
};

// The MMU-notifier step after domain dom_index's table changed for [lo, hi): invalidate, and
// tell the checker (if any) the change is complete. Returns the completion time.
uint64_t invalidate_changed(Invalidator& inv, Checker* checker, size_t dom_index, uint32_t domain_id, InvKind kind,
                            InvReason reason, uint64_t lo, uint64_t hi, InvPort* port);

}  // namespace iopf
