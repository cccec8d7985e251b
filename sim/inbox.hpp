// An inbox of page requests in flight: each message arrives at its own time (sent now, over a
// latency its sender computed), and its owner waits until the earliest arrival or a deadline
// of its own, whichever comes first. Owners have no thread: the engine runs them (the PRQ,
// sim/fault_handling.cpp; a device, on its EngineWakeup, sim/device_side.cpp).
//
// Why not a SimGrid comm per message: the links a page request, its hand-off and its
// response cross carry nothing else in the model (DMA data is on the inline calendars of
// models/device/root_complex.hpp), so a message's flight is its route's latency plus its
// bytes at the route's bandwidth, with nothing to share it. A comm would compute the same
// time through the network model and mailbox matching, at several times the cost of a wait
// (bench: about 2.9 us per comm against 0.6 us per timed wait). Times are whole
// ns (the flight rounded to the nearest ns).
// Messages are taken in arrival order (equal arrivals in the order sent). A send that
// arrives before the owner would wake (and is the new earliest) brings its wake-up forward to
// that arrival, while the owner listens (sim/alarm.hpp).
#pragma once
#include <cstdint>
#include <queue>
#include <vector>

namespace iopf {

class EngineWakeup;  // sim/alarm.hpp
struct PageRequest;

// Route latency plus bytes at the route's bandwidth, in whole ns (rounded to nearest).
uint64_t message_ns(uint64_t latency_ns, uint64_t bytes, double bytes_per_s);

class Inbox {
 public:
  static constexpr uint64_t kNever = ~0ULL;

  Inbox() = default;  // holds pointers: FaultHandling owns the requests
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  void send(PageRequest* req, uint64_t arrive_ns);
  uint64_t next_arrival_ns() const { return q_.empty() ? kNever : q_.top().arrive_ns; }
  bool arrived(uint64_t now_ns) const { return !q_.empty() && q_.top().arrive_ns <= now_ns; }
  PageRequest* pop();  // the earliest message
  // The owner's wake-up: a send that arrives earlier than it rings it (null: nobody listens).
  void set_listener(EngineWakeup* w) { listener_ = w; }

 private:
  struct Entry {
    uint64_t arrive_ns;
    uint64_t seq;
    PageRequest* req;
    bool operator>(const Entry& o) const { return arrive_ns != o.arrive_ns ? arrive_ns > o.arrive_ns : seq > o.seq; }
  };
  EngineWakeup* listener_ = nullptr;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> q_;
  uint64_t seq_ = 0;
};

}  // namespace iopf
