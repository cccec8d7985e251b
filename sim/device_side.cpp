#include "sim/device_side.hpp"

#include <simgrid/s4u.hpp>

#include <algorithm>
#include <iterator>
#include <list>
#include <vector>

#include "models/device/device.hpp"
#include "sim/fault_handling.hpp"
#include "sim/sim_services.hpp"

namespace sg4 = simgrid::s4u;

namespace iopf {

namespace {

class DeviceActor {
 public:
  DeviceActor(Device* dev, SimServices* svc, FaultHandling* faults, uint64_t end_ns, uint64_t quantum_ns)
      : dev_(dev), ds_(dev->spec()), paths_(dev->paths()), svc_(svc), faults_(faults), end_ns_(end_ns),
        quantum_ns_(quantum_ns), send_after_(paths_.size(), 0), last_va_(paths_.size(), ~0ULL) {}

  void run() {
    for (;;) {
      const uint64_t now = svc_->now_ns();
      const uint64_t next_issue = issue_window(now + quantum_ns_);
      send_requests(now);
      uint64_t wake = next_issue;
      if (room())
        for (Path* p : to_send_) wake = std::min(wake, std::max(send_time(p), now + 1));
      for (const Waiting& w : waiting_) wake = std::min(wake, w.sent_ns + ds_.pri_timeout_ns);
      if (wake == Path::kNever && waiting_.empty() && to_send_.empty()) return;  // every path is done
      if (waiting_.empty()) {
        svc_->sleep_until(wake);
        continue;
      }
      wait_for_responses(now, wake);
    }
  }

 private:
  struct Waiting {
    Path* path;
    uint64_t sent_ns;
    PageRequest* response;
    sg4::CommPtr comm;
  };

  size_t index_of(const Path* p) const { return static_cast<size_t>(p - paths_.data()); }
  uint64_t send_time(const Path* p) const { return std::max(p->pending().detected_ns, send_after_[index_of(p)]); }
  bool room() const { return dev_->pri_outstanding + ds_.prg_pages <= ds_.pri_outstanding; }

  // Inline: the earliest DMA first, until the window ends or a page request is due. Returns
  // the due time of the next DMA not issued.
  uint64_t issue_window(uint64_t limit) {
    const bool can_send = room();
    for (;;) {
      uint64_t send_at = Path::kNever;
      if (can_send)
        for (Path* p : to_send_) send_at = std::min(send_at, send_time(p));
      Path* first = nullptr;
      uint64_t next_issue = Path::kNever;
      for (Path& p : paths_) {
        const uint64_t t = p.next_issue_ns(end_ns_);
        if (t < next_issue) {
          next_issue = t;
          first = &p;
        }
      }
      if (!first || next_issue >= limit || send_at <= next_issue) return next_issue;
      if (!first->issue_one()) to_send_.push_back(first);
    }
  }

  // Page requests whose faults have been detected by now, while request slots last.
  void send_requests(uint64_t now) {
    const uint32_t group = ds_.prg_pages;
    for (size_t i = 0; i < to_send_.size();) {
      Path* p = to_send_[i];
      if (send_time(p) > now || !room()) {
        ++i;
        continue;
      }
      const size_t pi = index_of(p);
      if (last_va_[pi] == p->pending().va) ++dev_->pri_retries;
      last_va_[pi] = p->pending().va;
      p->count_page_requests(group);
      dev_->pri_requests += group;
      ++dev_->pri_groups;
      dev_->pri_outstanding += group;
      faults_->send(new PageRequest{p, p->pending().va, p->pending().write, group});
      waiting_.push_back(Waiting{p, now, nullptr, nullptr});
      waiting_.back().comm = FaultHandling::response_mailbox(p)->get_async<PageRequest>(&waiting_.back().response);
      to_send_[i] = to_send_.back();
      to_send_.pop_back();
    }
  }

  void wait_for_responses(uint64_t now, uint64_t wake) {
    std::vector<sg4::CommPtr> comms;
    for (const Waiting& w : waiting_) comms.push_back(w.comm);
    const double timeout = wake == Path::kNever ? -1.0 : static_cast<double>(wake - now) * 1e-9;
    const ssize_t got = sg4::Comm::wait_any_for(comms, timeout);
    svc_->count_event();
    if (got < 0) {
      resend_lost();
      return;
    }
    auto it = std::next(waiting_.begin(), got);
    Waiting w = *it;
    waiting_.erase(it);
    on_response(w);
  }

  // Requests unanswered for pri_timeout were lost (PRQ overflow, drop): send again.
  void resend_lost() {
    const uint64_t t = svc_->now_ns();
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (it->sent_ns + ds_.pri_timeout_ns > t) {
        ++it;
        continue;
      }
      it->comm->cancel();
      ++dev_->pri_timeouts;
      dev_->pri_outstanding -= ds_.prg_pages;
      send_after_[index_of(it->path)] = t + ds_.pri_backoff_ns;
      to_send_.push_back(it->path);
      it = waiting_.erase(it);
    }
  }

  void on_response(const Waiting& w) {
    dev_->pri_outstanding -= w.response->pages;
    const uint64_t t = svc_->now_ns();
    const PageRequest resp = *w.response;
    delete w.response;
    ++dev_->pri_responses[static_cast<int>(resp.code)];
    dev_->fault_latency_ns.record(t - w.sent_ns);
    if (resp.kind == FaultKind::kMajor)
      dev_->fault_latency_major_ns.record(t - w.sent_ns);
    else if (resp.kind == FaultKind::kMinor || resp.kind == FaultKind::kWriteProtect)
      dev_->fault_latency_minor_ns.record(t - w.sent_ns);
    if (resp.code != PrgCode::kSuccess) {
      w.path->fail_pending(t);
      return;
    }
    if (!w.path->resume(t)) {  // faulted again (auto-answered, or the page went away): back off
      send_after_[index_of(w.path)] = t + ds_.pri_backoff_ns;
      to_send_.push_back(w.path);
    }
  }

  Device* dev_;
  const DeviceSpec& ds_;
  std::vector<Path>& paths_;
  SimServices* svc_;
  FaultHandling* faults_;
  uint64_t end_ns_;
  uint64_t quantum_ns_;
  std::vector<Path*> to_send_;        // faulted, page request not yet sent
  std::vector<uint64_t> send_after_;  // back-off before a re-send
  std::vector<uint64_t> last_va_;     // to count retries
  std::list<Waiting> waiting_;        // get_async writes into response: addresses must stay put
};

}  // namespace

void run_device(Device* dev, SimServices* svc, FaultHandling* faults, uint64_t end_ns, uint64_t quantum_ns) {
  DeviceActor(dev, svc, faults, end_ns, quantum_ns).run();
}

}  // namespace iopf
