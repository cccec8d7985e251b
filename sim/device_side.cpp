#include "sim/device_side.hpp"

#include <simgrid/s4u.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <queue>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "models/common/sizes.hpp"
#include "models/device/device.hpp"
#include "sim/alarm.hpp"
#include "sim/fault_handling.hpp"
#include "sim/sim_services.hpp"

namespace sg4 = simgrid::s4u;

namespace iopf {

namespace {

// The device's PRI client state for one faulting page: the DMAs parked on it and its page
// request (one group), sent or still to send.
struct PageWait {
  std::vector<ParkedDma> dmas;
  uint64_t send_after_ns = 0;   // detected, or backing off
  bool sent = false;       // in flight (the PRQ may have dropped it: never touch the request)
  uint64_t sent_id = 0;    // the device's number for the request in flight
  uint32_t sent_pages = 0;
  uint64_t sent_ns = 0;
  bool requested_before = false;  // a re-send counts as a retry
};

// The waits ordered by what the actor asks of them at every event, so that no event scans
// every waiting page (with prq_overflow drop and a long pri_timeout thousands of lost
// requests wait at once). Unsent waits are `pending` until their send_after_ns has passed,
// then `ready`, sent in the order they became due (detected, or backed off: a device sends its
// page requests in the order it found the faults; the lower page first at the same ns); sent
// ones are ordered by the time their request times out. A page is in one of the three at a
// time, so keys are unique and the heaps (pending, ready: they lose only their first) give the
// order ordered sets would, without a tree node per fault.
class WaitIndex {
 public:
  using Key = std::pair<uint64_t, uint64_t>;  // (time, page)

  void add_unsent(uint64_t page, uint64_t send_after_ns) { pending_.emplace(send_after_ns, page); }
  // Unsent waits whose send_after_ns <= now become ready.
  void promote(uint64_t now) {
    while (!pending_.empty() && pending_.top().first <= now) {
      ready_.push(pending_.top());
      pending_.pop();
    }
  }
  bool any_ready() const { return !ready_.empty(); }
  uint64_t first_ready() const { return ready_.top().second; }  // the page due first
  // first_ready() is sent.
  void mark_first_sent(uint64_t deadline_ns) {
    sent_.emplace(deadline_ns, ready_.top().second);
    ready_.pop();
  }
  void answered(uint64_t page, uint64_t deadline_ns) { sent_.erase({deadline_ns, page}); }
  // The earliest send_after_ns of an unsent wait (Path::kNever when none).
  uint64_t first_unsent_ns() const {
    uint64_t t = Path::kNever;
    if (!ready_.empty()) t = ready_.top().first;
    if (!pending_.empty()) t = std::min(t, pending_.top().first);
    return t;
  }
  bool any_sent() const { return !sent_.empty(); }
  uint64_t first_deadline_ns() const { return sent_.empty() ? Path::kNever : sent_.begin()->first; }
  // Removes and returns the page of the earliest sent wait timed out by t (or false).
  bool pop_timed_out(uint64_t t, uint64_t* page) {
    if (sent_.empty() || sent_.begin()->first > t) return false;
    *page = sent_.begin()->second;
    sent_.erase(sent_.begin());
    return true;
  }

 private:
  template <class T>
  using MinHeap = std::priority_queue<T, std::vector<T>, std::greater<T>>;
  MinHeap<Key> pending_;
  MinHeap<Key> ready_;
  std::set<Key> sent_;  // (sent_ns + pri_timeout, page): answers remove any of them
};

class DeviceActor {
  using Waits = std::map<uint64_t, PageWait>;  // by page

 public:
  DeviceActor(Device* dev, SimServices* svc, FaultHandling* faults, const DeviceWindow& w)
      : dev_(dev), ds_(dev->spec()), svc_(svc), faults_(faults), window_(w),
        responses_(faults->responses(dev)), who_("device:" + dev->spec().name), wakeup_([this] { woken(); }) {
    responses_.set_listener(&wakeup_);
  }
  ~DeviceActor() { responses_.set_listener(nullptr); }

  // In the device's thread: the first step, then the engine runs the others on the device's
  // EngineWakeup (no thread switch per wake-up); the thread only waits for the last.
  void run() {
    dev_->set_window(window_.origin_ns, window_.start_ns, window_.end_ns);
    done_ = sg4::Semaphore::create(0);
    step(svc_->now_ns());
    if (!finished_) done_->acquire();
  }

 private:
  void woken() {
    svc_->guarded(who_, [this] {
      svc_->count_event();
      const uint64_t now = svc_->now_ns();
      if (awaiting_response_) {  // its wait for a response ended: by an arrival, or its deadline
        awaiting_response_ = false;
        if (responses_.arrived(now)) on_response(responses_.pop(), now);
      }
      step(now);
    });
  }

  // The device's loop, until it must wait: issue, send, take arrived responses; then sleep
  // until the next thing due, or wait for a response (which brings the wake-up forward).
  void step(uint64_t now) {
    for (;; now = svc_->now_ns()) {
      resend_lost(now);
      const uint64_t next_issue = issue_window(std::min(now + window_.quantum_ns, window_.end_ns));
      send_requests(now);
      // every path is done, or the window closed (what still waits is in flight)
      if ((next_issue == Path::kNever && waits_.empty()) || now >= window_.end_ns) {
        finish();
        return;
      }
      uint64_t wake = std::min({next_issue, window_.end_ns, std::max(next_send_ns(), now + 1)});
      wake = std::min(wake, index_.first_deadline_ns());
      if (waits_.empty() || !index_.any_sent()) {
        if (wake > now) return wakeup_.arm(wake, false);
        continue;
      }
      if (responses_.arrived(now)) {
        on_response(responses_.pop(), now);
        continue;
      }
      const uint64_t until = std::min(wake, responses_.next_arrival_ns());
      if (until > now) {
        awaiting_response_ = true;
        return wakeup_.arm(until, true);
      }
    }
  }

  // Inline: the earliest DMA first, until `limit` or a page request is due to go out (the
  // next send time changes only when a DMA parks).
  uint64_t issue_window(uint64_t limit) {
    for (;;) {
      ParkedDma parked;
      uint64_t next_issue = Path::kNever;
      if (!dev_->issue_until(limit, next_send_ns(), &parked, &next_issue)) return next_issue;
      park(parked, false);
    }
  }

  // When the next page request can leave: detected (or backed off), a request slot free, and
  // page requests enabled.
  uint64_t next_send_ns() const {
    if (!room()) return Path::kNever;
    const uint64_t t = index_.first_unsent_ns();
    return t == Path::kNever ? t : std::max(t, dev_->pri_enabled_at_ns());
  }
  bool room() const { return dev_->pri_outstanding + ds_.prg_pages <= ds_.pri_outstanding; }

  // A parked DMA waits on its page; requests for a page already requested are merged.
  void park(const ParkedDma& d, bool again) {
    const uint64_t page = d.va & ~kBasePageMask;
    auto it = waits_.lower_bound(page);
    const bool fresh = it == waits_.end() || it->first != page;
    if (fresh) {
      it = new_wait(it, page);
      it->second.send_after_ns = d.detected_ns;
      index_.add_unsent(page, d.detected_ns);
    } else {
      ++dev_->pri_merged;
    }
    it->second.requested_before = it->second.requested_before || again;
    it->second.dmas.push_back(d);
  }

  // Page requests whose faults have been detected by now, in the order they were, while
  // request slots last.
  void send_requests(uint64_t now) {
    index_.promote(now);
    if (!dev_->pri_enabled(now)) return;  // Response Failure: no requests until the reset
    while (room() && index_.any_ready()) {
      PageWait& w = waits_.at(index_.first_ready());
      index_.mark_first_sent(now + ds_.pri_timeout_ns);
      const uint32_t group = ds_.prg_pages;
      if (w.requested_before) ++dev_->pri_retries;
      w.requested_before = true;
      w.dmas.front().path->count_page_requests(group);
      dev_->pri_requests += group;
      ++dev_->pri_groups;
      dev_->pri_outstanding += group;
      w.sent = true;
      w.sent_id = next_id_++;
      w.sent_pages = group;
      w.sent_ns = now;
      faults_->send(PageRequest{dev_, w.sent_id, w.dmas.front().va, w.dmas.front().write, group});
    }
  }

  // Requests unanswered for pri_timeout were lost (PRQ overflow, drop): send again.
  void resend_lost(uint64_t t) {
    uint64_t page = 0;
    while (index_.pop_timed_out(t, &page)) {
      PageWait& w = waits_.at(page);
      ++dev_->pri_timeouts;
      dev_->pri_outstanding -= w.sent_pages;
      abandoned_.insert(w.sent_id);  // a late response is ignored
      w.sent = false;
      w.send_after_ns = t + ds_.pri_backoff_ns;
      index_.add_unsent(page, w.send_after_ns);
    }
  }

  void on_response(PageRequest* resp, uint64_t t) {  // t: now
    if (abandoned_.erase(resp->id)) {  // answered after we gave up on it
      faults_->retire(resp);
      return;
    }
    Waits::node_type node = waits_.extract(resp->va & ~kBasePageMask);
    PageWait& w = node.mapped();
    index_.answered(node.key(), w.sent_ns + ds_.pri_timeout_ns);
    dev_->pri_outstanding -= resp->pages;
    record(*resp, t - w.sent_ns);
    const PrgCode code = resp->code;
    faults_->retire(resp);
    if (code == PrgCode::kFailure) dev_->pri_failure(t);
    for (ParkedDma& d : w.dmas) {
      if (code != PrgCode::kSuccess) {
        d.path->fail_parked(d, t, code == PrgCode::kInvalid);
        continue;
      }
      if (d.path->retry(&d, t)) continue;
      d.detected_ns = t + ds_.pri_backoff_ns;  // faulted again (auto-answered, or the page went away): back off
      park(d, true);
    }
    w.dmas.clear();
    w = PageWait{std::move(w.dmas)};
    spare_.push_back(std::move(node));
  }

  // A wait for a page not waited on (hint: where it goes): an answered wait's node when there is one (with its
  // DMAs' room), as a fault storm answers one and starts another per fault.
  Waits::iterator new_wait(Waits::iterator hint, uint64_t page) {
    if (spare_.empty()) return waits_.try_emplace(hint, page);
    Waits::node_type node = std::move(spare_.back());
    spare_.pop_back();
    node.key() = page;
    return waits_.insert(hint, std::move(node));
  }

  void record(const PageRequest& resp, uint64_t latency_ns) {
    ++dev_->pri_responses[static_cast<int>(resp.code)];
    dev_->fault_latency_ns.record(latency_ns);
    if (resp.kind == FaultKind::kMajor) dev_->fault_latency_major_ns.record(latency_ns);
    else if (resp.kind == FaultKind::kMinor || resp.kind == FaultKind::kWriteProtect)
      dev_->fault_latency_minor_ns.record(latency_ns);
  }

  // The window closed: parked DMAs are in flight; what was due and never issued is backlog.
  void finish() {
    for (auto& [page, w] : waits_)
      for (const ParkedDma& d : w.dmas) d.path->abandon_parked(d);
    for (Path& p : dev_->paths()) p.close_window();
    finished_ = true;
    done_->release();
  }

  Device* dev_;
  const DeviceSpec& ds_;
  SimServices* svc_;
  FaultHandling* faults_;
  DeviceWindow window_;
  Inbox& responses_;
  Waits waits_;
  std::vector<Waits::node_type> spare_;  // answered waits' nodes, emptied, for new_wait
  WaitIndex index_;                     // the same waits, by when each is next due
  std::set<uint64_t> abandoned_;  // ids of requests given up on (timed out)
  uint64_t next_id_ = 0;
  const std::string who_;          // for an error's message
  EngineWakeup wakeup_;            // the engine runs the next step on it
  bool awaiting_response_ = false;  // armed to wait for a response (or the deadline)
  bool finished_ = false;
  sg4::SemaphorePtr done_;  // released by finish(): the device's thread ends
};

}  // namespace

void run_device(Device* dev, SimServices* svc, FaultHandling* faults, const DeviceWindow& window) {
  DeviceActor(dev, svc, faults, window).run();
}

}  // namespace iopf
