#include "models/device/root_complex.hpp"

#include <algorithm>
#include <cmath>

#include "models/common/calendar.hpp"
#include "models/device/root_complex_inl.hpp"

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
  return transfer_inline(port, to_device, t, wire_bytes);
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

uint64_t RootComplex::calendar_bytes() const {
  uint64_t bytes = 0;
  for (int d = 0; d < 2; ++d) {
    if (dir_[d]) bytes += dir_[d]->memory_bytes();
    for (const Share& s : shares_[d]) bytes += s.link->memory_bytes();
  }
  return bytes;
}

uint64_t RootComplex::late_requests() const {
  return dir_[0] ? dir_[0]->clamped + dir_[1]->clamped : 0;
}

}  // namespace iopf
