// The root complex and memory controller as one shared bandwidth, per direction, that every
// device's DMA data crosses (on top of each device's own link).
//
// Models: host.root_complex_bandwidth per direction (upstream: device writes; downstream:
// read completions), an inline calendar (models/common/calendar.hpp, 100 ns bins) shared by
// all devices: when the devices together offer more, their transfers wait. The bytes counted
// are wire bytes: each TLP's payload plus its overhead (see tlp_wire_bytes).
// Limitation: device actors run up to a batch quantum ahead of each other, so transfers reach
// the calendar slightly out of time order; bins keep each near its own time (an error of one
// bin); one older than the bins kept is served as if at the oldest (counted in `clamped`).
// Does not model: flow-control credits, read request TLPs upstream, completions split at the
// read completion boundary, DRAM bank and refresh effects, NUMA.
#pragma once
#include <cstdint>

#include "models/common/calendar.hpp"

namespace iopf {

// TLP overhead per TLP: 24 B = STP 1 B + sequence number 2 B + 4DW header (64-bit address)
// 16 B + LCRC 4 B + END 1 B (PCIe base spec TLP framing, Gen1/2; Gen3+ framing is within a
// byte or two of it). DLLPs (ACK, flow-control updates) are not counted. Chosen from those
// fields, not measured.
inline constexpr uint32_t kTlpOverheadBytes = 24;

// Bytes a DMA of `bytes` puts on the wire when split into TLPs of at most max_payload.
inline uint64_t tlp_wire_bytes(uint64_t bytes, uint32_t max_payload) {
  const uint64_t tlps = max_payload ? (bytes + max_payload - 1) / max_payload : 1;
  return bytes + (tlps ? tlps : 1) * kTlpOverheadBytes;
}

class RootComplex {
 public:
  void configure(double bytes_per_s, uint64_t keep_ns) {
    bytes_per_s_ = bytes_per_s;
    for (BinCalendar& c : dir_) c.configure(bytes_per_s / 1e9, kBinNs, keep_ns);
  }
  // Wire bytes ready at t in one direction: when the last byte has crossed.
  uint64_t transfer(bool to_device, uint64_t t, uint64_t wire_bytes) {
    const auto min_ns = static_cast<uint64_t>(static_cast<double>(wire_bytes) * 1e9 / bytes_per_s_);
    return dir_[to_device ? 1 : 0].book(t, wire_bytes, min_ns).finish_ns;
  }
  double bytes_per_s() const { return bytes_per_s_; }
  uint64_t clamped() const { return dir_[0].clamped + dir_[1].clamped; }
  static constexpr uint64_t kBinNs = 100;  // chosen: one 4 KiB TLP train at 63 GB/s is 65 ns

 private:
  double bytes_per_s_ = 0;
  BinCalendar dir_[2];  // upstream, downstream
};

}  // namespace iopf
