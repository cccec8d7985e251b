// Each device's PCIe link (per direction) and the root complex and memory controller as one
// shared bandwidth, per direction, that every device's DMA data crosses after its link.
//
// Models: host.root_complex_bandwidth per direction (upstream: device writes; downstream:
// read completions), an inline calendar (models/common/calendar.hpp, 100 ns bins) shared by
// all devices: when the devices together offer more, their transfers wait. Each device's link
// is a calendar of its own too (not a next-free time: a device's transfers come ready out of
// order, a read that hits its translation ready before one issued earlier that walked, and
// read completions may pass each other on the link). The bytes counted
// are wire bytes: each TLP's payload plus its overhead (see tlp_wire_bytes).
// Arbitration: the root complex serves its ports round-robin, so devices that all want more
// than their share get equal shares (max-min fair). The calendar alone would serve whichever
// device booked first, and device actors book up to a batch quantum ahead of each other; so
// each port also has a share: every kRateWindowNs of its own requests the root complex
// estimates each port's rate and whether it was held back (a transfer waited over
// kBacklogNs), and water-fills the bandwidth: ports that were not held back keep their rate,
// the others split the rest equally. A port's transfers then also pace at its share (a
// next-free time, as its own link). With one device, or demands that fit, nothing is paced.
// Limitation: transfers reach the calendar slightly out of time order; bins keep each near
// its own time (an error of one bin); one older than the bins kept is served as if at the
// oldest (counted in late_requests). Shares follow demand one rate window late.
// Does not model: flow-control credits, read request TLPs upstream, completions split at the
// read completion boundary, DRAM bank and refresh effects, NUMA.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

namespace iopf {

class BinCalendar;  // models/common/calendar.hpp, kept out of this widely included header

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
  RootComplex();
  ~RootComplex();
  RootComplex(const RootComplex&) = delete;
  RootComplex& operator=(const RootComplex&) = delete;

  void configure(double bytes_per_s, uint64_t keep_ns);
  uint32_t add_port(double link_bytes_per_s);  // one per device, with its link's bandwidth
  // Wire bytes ready at t in one direction at a port: when the last byte has crossed the
  // port's link and the root complex.
  uint64_t transfer(uint32_t port, bool to_device, uint64_t t, uint64_t wire_bytes);
  // The same, inlined where the DMA hot path calls it: defined in root_complex_inl.hpp,
  // which only root_complex.cpp and device.cpp include.
  [[gnu::always_inline]] inline uint64_t transfer_inline(uint32_t port, bool to_device, uint64_t t, uint64_t wire_bytes);
  double bytes_per_s() const { return bytes_per_s_; }
  uint64_t late_requests() const;
  uint64_t calendar_bytes() const;  // its own and every link's calendar rings (sim.memory)
  static constexpr uint64_t kBinNs = 100;           // chosen: one 4 KiB TLP train at 63 GB/s is 65 ns
  static constexpr uint64_t kRateWindowNs = 10'000;  // chosen: a batch quantum
  static constexpr uint64_t kBacklogNs = 1'000;      // chosen: a few 2 KiB transfers' worth

 private:
  struct Share {  // one port, one direction
    uint64_t window_end_ns = 0;
    uint64_t bytes = 0;         // in the current window
    bool held_back = false;     // in the current window
    double rate = 0;            // bytes per ns, last window
    bool limited = false;       // held back in the last window
    double share = 0;           // bytes per ns it may use; 0 = unpaced
    uint64_t free_ps = 0;       // paced: next free, in picoseconds
    std::shared_ptr<BinCalendar> link;  // the device's link in this direction
    uint64_t link_fs_per_byte = 0;
  };
  void roll(Share& s, int dir, uint64_t t);
  void water_fill(int dir, uint64_t now);

  double bytes_per_s_ = 0;
  uint64_t fs_per_byte_ = 0;                // femtoseconds per wire byte
  std::unique_ptr<BinCalendar> dir_[2];     // upstream, downstream
  std::vector<Share> shares_[2];
  uint64_t keep_ns_ = 0;
};

}  // namespace iopf
