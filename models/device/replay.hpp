// A workload replayed from a Linux trace: the text `trace-cmd report` prints for the
// iommu:map, iommu:unmap and iommu:io_page_fault events (include/trace/events/iommu.h):
//
//   <comm>-<pid> [<cpu>] [<flags>] <seconds>.<fraction>: map: IOMMU: iova=0x... - 0x... paddr=0x... size=N
//   <comm>-<pid> [<cpu>] [<flags>] <seconds>.<fraction>: unmap: IOMMU: iova=0x... - 0x... size=N unmapped_size=N
//   <comm>-<pid> [<cpu>] [<flags>] <seconds>.<fraction>: io_page_fault: IOMMU:<driver> <device> iova=0x... flags=0x...
//
// (the event may be written with its system, `iommu:map:`). Models: a map is the device
// starting to use the mapping, so a DMA at its first IOVA at that time; an io_page_fault is a
// DMA at that IOVA (a write when flags has IOMMU_FAULT_WRITE, 0x1) at that time; an unmap is
// a scripted zap of [iova, iova + size). Times count from the first of these events.
// Does not model: the device's DMAs between the events (the trace does not show them), the
// physical address of a map (the domain decides where a page lives), the device a fault names
// (the replay belongs to the path that names the file).
// Input rules: blank lines, `#` comments, trace-cmd's header lines (`cpus=N`, `version = N`,
// `CPU N is empty`) and well-formed lines of other events are skipped; any other line, an
// iommu event whose fields do not parse, a size of 0, an end before its start, or a time
// before the previous event's is an error naming the file and line.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace iopf {

struct ReplayDma {
  uint64_t t_ns;  // from the first event
  uint64_t iova;
  bool write;
};

struct ReplayUnmap {
  uint64_t t_ns;
  uint64_t iova;
  uint64_t bytes;
};

struct ReplayTrace {
  std::vector<ReplayDma> dmas;      // in time order
  std::vector<ReplayUnmap> unmaps;  // in time order
  uint64_t other_events = 0;        // well-formed lines of other events, skipped
};

// "file:line: what"
struct ReplayError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

ReplayTrace parse_replay(const std::string& text, const std::string& file);
ReplayTrace read_replay(const std::string& file);  // ReplayError when unreadable, too

}  // namespace iopf
