#include "models/iommu/walkers.hpp"

#include <cmath>

#include "models/common/calendar.hpp"

namespace iopf {

Walkers::Walkers() = default;
Walkers::~Walkers() = default;
Walkers::Walkers(Walkers&&) noexcept = default;
Walkers& Walkers::operator=(Walkers&&) noexcept = default;

void Walkers::configure(uint32_t slots, uint64_t keep_ns) {
  stats_.slots = slots;
  slots_ = std::make_unique<BinCalendar>();
  front_ = std::make_unique<BinCalendar>();
  slots_->configure(static_cast<double>(slots), kBinNs, keep_ns);
  front_->configure(1.0, kBinNs, keep_ns);
}

uint64_t Walkers::walk_wait_ns(uint64_t begin_ns, uint64_t work_ns, bool counted) {
  const BinCalendar::Booking b = slots_->book(begin_ns, work_ns, work_ns);
  const uint64_t wait = b.finish_ns - (begin_ns + work_ns);
  if (counted) {
    stats_.busy_ns += work_ns;
    stats_.wait_ns.record(wait);
  }
  return wait;
}

uint64_t Walkers::ats_front_ns(uint64_t t, uint64_t work_ns, bool counted) {
  const BinCalendar::Booking b = front_->book(t, work_ns, work_ns);
  if (counted) stats_.ats_wait_ns.record(b.finish_ns - (t + work_ns));
  return b.finish_ns;
}

uint32_t Walkers::max_busy() const {
  if (!slots_) return 0;
  return static_cast<uint32_t>(std::ceil(slots_->max_fill() * stats_.slots - 1e-9));
}

uint64_t Walkers::late_requests() const { return slots_ ? slots_->clamped + front_->clamped : 0; }

uint64_t Walkers::calendar_bytes() const { return slots_ ? slots_->memory_bytes() + front_->memory_bytes() : 0; }

}  // namespace iopf
