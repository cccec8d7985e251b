#include "sim/inbox.hpp"

#include "models/common/rounding.hpp"
#include "sim/alarm.hpp"

namespace iopf {

uint64_t message_ns(uint64_t latency_ns, uint64_t bytes, double bytes_per_s) {
  return latency_ns + round_half_away(static_cast<double>(bytes) * 1e9 / bytes_per_s);
}

void Inbox::send(PageRequest* req, uint64_t arrive_ns) {
  const bool earliest = q_.empty() || arrive_ns < q_.top().arrive_ns;
  q_.push(Entry{arrive_ns, seq_++, req});
  if (earliest && listener_) listener_->ring_by(arrive_ns);  // the owner, if waiting till later, wakes at its arrival
}

PageRequest* Inbox::pop() {
  PageRequest* r = q_.top().req;
  q_.pop();
  return r;
}

}  // namespace iopf
