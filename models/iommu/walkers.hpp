// The IOMMU's page-walk slots and its ATS translation-request front end, shared by every
// device: inline calendars (models/common/calendar.hpp), not SimGrid activities.
//
// Models: `slots` walks in progress at once (iommu.walkers); a walk needs its reads x
// walk_mem_read of one slot's time, and when every slot is busy it waits (wait_ns: its
// completion minus its unloaded completion). ATS translation requests queue at the front end,
// one at a time, ats_translation each, before their IOTLB lookup.
// Default: 16 slots, as gem5's SMMUv3 model (SMMUv3.py, walk slots); Intel publishes no VT-d
// walker count (the iommu parameter table says why 16 is kept for the Intel-like default).
// Limitation: device actors run up to one batch quantum ahead of each other, so requests
// reach the calendars slightly out of time order; 100 ns bins keep each near its own time (an
// error of one bin); one older than the bins kept (two quanta) is served as if it came at the
// oldest (counted in late_requests: an over-estimate).
// Does not model: a walk's reads competing with DMA data for memory bandwidth, the order of
// service inside a bin (fluid).
#pragma once
#include <cstdint>
#include <memory>

#include "models/common/stats.hpp"

namespace iopf {

class BinCalendar;  // models/common/calendar.hpp, kept out of this widely included header

// Of DMAs due in the measurement window.
struct WalkerStats {
  uint32_t slots = 0;
  uint64_t busy_ns = 0;   // slot time the walks took
  Histogram wait_ns;      // per walk: completion minus its unloaded completion
  Histogram ats_wait_ns;  // per ATS translation request: waiting at the front end
};

class Walkers {
 public:
  Walkers();
  ~Walkers();
  Walkers(Walkers&&) noexcept;
  Walkers& operator=(Walkers&&) noexcept;

  // `slots` walk slots; bins kept keep_ns behind the latest request.
  void configure(uint32_t slots, uint64_t keep_ns);
  bool configured() const { return slots_ != nullptr; }
  // A walk of work_ns that could start at begin_ns: its wait for a slot.
  uint64_t walk_wait_ns(uint64_t begin_ns, uint64_t work_ns, bool counted);
  // An ATS translation request of work_ns reaching the front end at t: when its lookup starts.
  uint64_t ats_front_ns(uint64_t t, uint64_t work_ns, bool counted);

  const WalkerStats& stats() const { return stats_; }
  uint32_t max_busy() const;  // from the fullest calendar bin
  uint64_t late_requests() const;
  uint64_t calendar_bytes() const;  // both calendars' rings (sim.memory)
  static constexpr uint64_t kBinNs = 100;  // chosen: a few walk reads' worth

 private:
  std::unique_ptr<BinCalendar> slots_;
  std::unique_ptr<BinCalendar> front_;
  WalkerStats stats_;
};

}  // namespace iopf
