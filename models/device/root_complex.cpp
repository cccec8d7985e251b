#include "models/device/root_complex.hpp"

#include <algorithm>
#include <cmath>

#include "models/common/calendar.hpp"

namespace iopf {

namespace {
constexpr double kShareSlack = 0.98;  // chosen
}  // namespace

RootComplex::RootComplex() = default;
RootComplex::~RootComplex() = default;

void RootComplex::configure(double bytes_per_s, uint64_t keep_ns) {
  bytes_per_s_ = bytes_per_s;
  keep_ns_ = keep_ns;
  fs_per_byte_ = static_cast<uint64_t>(std::llround(1e15 / bytes_per_s));
  for (auto& c : dir_) {
    c = std::make_unique<BinCalendar>();
    c->configure(bytes_per_s / 1e9, kBinNs, keep_ns);
  }
}

uint32_t RootComplex::add_port(double link_bytes_per_s) {
  for (auto& v : shares_) {
    v.emplace_back();
    v.back().link = std::make_shared<BinCalendar>();
    v.back().link->configure(link_bytes_per_s / 1e9, kBinNs, keep_ns_);
    v.back().link_fs_per_byte = static_cast<uint64_t>(std::llround(1e15 / link_bytes_per_s));
  }
  return static_cast<uint32_t>(shares_[0].size() - 1);
}

uint64_t RootComplex::transfer(uint32_t port, bool to_device, uint64_t t, uint64_t wire_bytes) {
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

// The port's rate window ends: its rate and whether it wanted more, then new shares.
void RootComplex::roll(Share& s, int dir, uint64_t t) {
  const bool contiguous = s.window_end_ns != 0 && t < s.window_end_ns + kRateWindowNs;
  s.rate = contiguous ? static_cast<double>(s.bytes) / static_cast<double>(kRateWindowNs) : 0.0;
  // Wanted more: held back, or using (nearly) all of its share.
  s.limited = contiguous && (s.held_back || (s.share > 0 && s.rate >= 0.95 * s.share));
  s.window_end_ns = (t / kRateWindowNs + 1) * kRateWindowNs;
  s.bytes = 0;
  s.held_back = false;
  water_fill(dir, t);
}

// Max-min fair shares: ports that did not want more keep their rate; the others split the rest.
void RootComplex::water_fill(int dir, uint64_t now) {
  std::vector<Share>& v = shares_[dir];
  if (v.size() < 2) return;
  std::vector<char> fixed(v.size(), 0);
  double rest = bytes_per_s_ / 1e9;
  size_t open = v.size();
  for (bool changed = true; changed && open;) {
    changed = false;
    const double level = rest / static_cast<double>(open);
    for (size_t i = 0; i < v.size(); ++i) {
      const bool active = v[i].window_end_ns + kRateWindowNs >= now;  // heard from lately
      const double rate = active ? v[i].rate : 0.0;
      if (fixed[i] || (active && v[i].limited) || rate > level) continue;
      fixed[i] = 1;
      rest -= rate;
      --open;
      changed = true;
    }
  }
  const double level = open ? rest / static_cast<double>(open) : 0.0;
  // Paced ports use kShareSlack of the level, leaving 2 % free so the calendar's bins have room for the
  // jitter of transfers booked out of time order (else the port booking last always waits).
  for (size_t i = 0; i < v.size(); ++i) v[i].share = fixed[i] ? 0.0 : std::max(level * kShareSlack, 1e-3);
}

uint64_t RootComplex::late_requests() const {
  return dir_[0] ? dir_[0]->clamped + dir_[1]->clamped : 0;
}

}  // namespace iopf
