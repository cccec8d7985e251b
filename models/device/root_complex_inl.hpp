// RootComplex::transfer's body, inline for the DMA hot path (models/device/device.cpp): the
// calendar's header comes with it, so include this only from .cpp files (root_complex.hpp
// says what is modelled).
#pragma once
#include <algorithm>
#include <cstdint>

#include "models/common/calendar.hpp"
#include "models/device/root_complex.hpp"

namespace iopf {

inline uint64_t RootComplex::transfer_inline(uint32_t port, bool to_device, uint64_t t, uint64_t wire_bytes) {
  const int d = to_device ? 1 : 0;
  Share& s = shares_[d][port];
  if (t >= s.window_end_ns) roll(s, d, t);
  s.bytes += wire_bytes;
  const uint64_t link_ns = (wire_bytes * s.link_fs_per_byte + 999'999) / 1'000'000;
  const BinCalendar::Booking on_link = s.link->book(t, wire_bytes, link_ns);
  // One device whose link is no faster than the root complex: the root complex cannot hold it back.
  if (shares_[d].size() == 1 && s.link_fs_per_byte >= fs_per_byte_) return on_link.finish_ns;
  uint64_t start = on_link.start_ns, paced = 0;
  if (s.share > 0) {  // round-robin arbitration: at most the port's share
    const auto ps = static_cast<uint64_t>(static_cast<double>(wire_bytes) * 1e3 / s.share);
    const uint64_t start_ps = std::max<uint64_t>(start * 1000, s.free_ps);
    s.free_ps = start_ps + ps;
    start = start_ps / 1000;
    paced = (s.free_ps + 999) / 1000;
  }
  const uint64_t min_ns = (wire_bytes * fs_per_byte_ + 999'999) / 1'000'000;
  const uint64_t done = std::max({on_link.finish_ns, paced, dir_[d]->book(start, wire_bytes, min_ns).finish_ns});
  if (done > t + std::max(link_ns, min_ns) + kBacklogNs) s.held_back = true;
  return done;
}

}  // namespace iopf
