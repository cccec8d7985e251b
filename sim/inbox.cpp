#include "sim/inbox.hpp"

#include <simgrid/s4u.hpp>

#include <cmath>

#include "sim/sim_services.hpp"

namespace iopf {

uint64_t message_ns(uint64_t latency_ns, uint64_t bytes, double bytes_per_s) {
  return latency_ns + static_cast<uint64_t>(std::llround(static_cast<double>(bytes) * 1e9 / bytes_per_s));
}

Inbox::Inbox(SimServices* svc) : svc_(svc), wake_(simgrid::s4u::Semaphore::create(0)) {}

void Inbox::send(PageRequest* req, uint64_t arrive_ns) {
  const bool earliest = q_.empty() || arrive_ns < q_.top().arrive_ns;
  q_.push(Entry{arrive_ns, seq_++, req});
  if (earliest && arrive_ns < waiting_until_) {
    waiting_until_ = 0;  // one wake-up: later sends need not release again
    wake_->release();
  }
}

PageRequest* Inbox::pop() {
  PageRequest* r = q_.top().req;
  q_.pop();
  return r;
}

void Inbox::wait_until(uint64_t until_ns) {
  const uint64_t now = svc_->now_ns();
  if (until_ns <= now) return;
  waiting_until_ = until_ns;
  if (until_ns == kNever) wake_->acquire();
  else wake_->acquire_timeout(static_cast<double>(until_ns - now) * 1e-9);
  waiting_until_ = 0;
  svc_->count_event();
}

}  // namespace iopf
