#include "sim/inbox.hpp"

#include <simgrid/s4u.hpp>

#include "models/common/rounding.hpp"
#include "sim/sim_services.hpp"

namespace iopf {

uint64_t message_ns(uint64_t latency_ns, uint64_t bytes, double bytes_per_s) {
  return latency_ns + round_half_away(static_cast<double>(bytes) * 1e9 / bytes_per_s);
}

Inbox::Inbox(SimServices* svc) : svc_(svc) {}

void Inbox::send(PageRequest* req, uint64_t arrive_ns) {
  const bool earliest = q_.empty() || arrive_ns < q_.top().arrive_ns;
  q_.push(Entry{arrive_ns, seq_++, req});
  if (earliest) wake_.ring_by(arrive_ns);  // the owner, if asleep till later, wakes at its arrival
}

PageRequest* Inbox::pop() {
  PageRequest* r = q_.top().req;
  q_.pop();
  return r;
}

void Inbox::wait_until(uint64_t until_ns) {
  if (until_ns <= svc_->now_ns()) return;
  wake_.sleep_until(until_ns);
  svc_->count_event();
}

}  // namespace iopf
