// `iopfsim run --trace FILE.json [--trace-window START:END]`: the run's slow path as Chrome
// trace-event JSON (Perfetto, chrome://tracing).
//
// Does: page requests as async begin/end pairs on their device (cat "page_request", from the
// device sending the group to the host's PRG response, or its loss in a full PRQ); faults as
// spans on the host core whose handler resolved them (cat "fault": "minor fault", "major
// fault", "write-protect fault", "no fault" when the page was already there); invalidations
// as spans on the IOMMU's queue from submission to completion, named by reason (cat
// "invalidation"); device resets (cat "reset") and kswapd's reclaim batches (cat "reclaim").
// Tracks: pid 1 the host (tid = core; 1000 kswapd), pid 2 the IOMMU (tid 1 the invalidation
// queue), pid 10 + i device i; named by metadata events. Timestamps in us (ns precision).
// The window keeps events that start in [START, END) (a page request's end is kept when its
// begin was; one still open at END is closed there with "cut": 1). The cap (max_events)
// stops recording: otherData.truncated says so, with the simulated time where it stopped.
// Does not: record anything per DMA, nor the time a page request spends on the PCIe link
// back to the device.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/common/trace.hpp"

namespace iopf {

struct System;

class ChromeTrace final : public TraceSink {
 public:
  static constexpr uint64_t kDefaultMaxEvents = 1'000'000;
  ChromeTrace(const System& sys, uint64_t window_start_ns, uint64_t window_end_ns,
              uint64_t max_events = kDefaultMaxEvents);

  void span(TraceCat cat, const char* name, TraceTrack track, uint64_t start_ns, uint64_t end_ns,
            const char* arg_name = nullptr, uint64_t arg = 0) override;
  void async(TraceCat cat, const char* name, bool begin, TraceTrack track, uint64_t id, uint64_t t_ns,
             const char* arg_name = nullptr, uint64_t arg = 0) override;

  // The JSON text: closes what is still open, adds otherData. Call once, after the run.
  std::string finish(uint64_t simulated_ns);
  bool truncated() const { return truncated_; }
  uint64_t events() const { return events_; }

 private:
  bool room(uint64_t t_ns);
  void add(const std::string& event);

  uint64_t lo_ns_, hi_ns_, max_events_;
  uint64_t events_ = 0;
  bool truncated_ = false;
  uint64_t truncated_at_ns_ = 0;
  std::string body_;  // events, comma separated
  struct Open {
    TraceCat cat;
    std::string name;
    TraceTrack track;
  };
  std::unordered_map<uint64_t, Open> open_;  // async pairs begun in the window
};

}  // namespace iopf
