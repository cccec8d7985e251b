// The SimGrid engine around the inline models.
//
// Platform: host "cpu" (host.cores cores at 1 Gflop/s, so one flop is one ns of work) with
// a swap disk, host "iommu", one host per device; a PCIe link per device (latency,
// bandwidth) to the IOMMU and a root-complex link from the IOMMU to the CPU.
//
// Actors: one per device (its DMA paths), the page request queue and the invalidation
// queue (on the IOMMU), one fault handler per CPU core, the reclaimer (kswapd), and per
// domain a vCPU toucher, a migrator and a dirty logger where the scenario asks; one ATC
// invalidation handler per ATS device; one actor per scripted invalidation source. Servers
// are daemons: the run ends when every device has issued its last DMA, every page request
// is answered and every scripted invalidation has completed.
//
// Page requests (PRI): a device has at most pri_outstanding requests in flight. The PRQ
// holds prq_depth requests from arrival until answered; a request that finds it full is
// answered Success at once (auto_success: the device retries and faults again) or lost
// (drop: the device times out after pri_timeout and retries after pri_retry_backoff).
// Handlers take every request already queued when they wake (one interrupt per batch),
// reserve host memory (waiting for reclaim when there is none), spend the minor or major
// fault cost (a major fault also reads the page from swap) and answer.
//
// Invalidation (MMU notifier, or a scripted source): the page table changes first, then a
// request takes descriptors in the invalidation queue (blocking when full); the queue works
// requests in order: an IOTLB/walk-cache descriptor (inv_desc; entries leave the IOMMU's
// caches then), an ATS Invalidate Request over PCIe to every ATS device of the domain, each
// answering with an Invalidate Completion after atc_inv (its ATC entries leave then), and
// the wait descriptor (inv_wait), whose write is the completion. Only after completion is a
// reclaimed page written to swap and its memory freed, or a migrated page placed anew.
//
// The batch rule (architecture.md): a device actor runs its paths' DMAs inline, without
// SimGrid, in time order, for every DMA due in [now, now + quantum), then sleeps to its next
// due DMA. It syncs earlier when a DMA faults: it sleeps to the time the fault was detected
// and only then sends the page request. So no DMA is issued more than one quantum ahead of
// SimGrid time. Where an invalidation can take a translation away, the quantum is clamped
// to the shortest time an invalidation can take to complete (inv_desc + inv_wait); an
// invalidation started at or after `now` then completes at or after the window's end, so
// no DMA *issued* in the window uses a translation after its invalidation completed. A
// DMA's data phase starts after its translation (an ATS round trip, a walk), so it can land
// past the window: as real devices do, an ATC's Invalidate Completion (and the IOMMU's
// drain of untranslated DMA) waits until the device's DMAs that used old translations have
// started, which the device tracks as max_use_ns. The clamp keeps that wait short; the
// drain makes it exact. The checker verifies both in every test.
#include "sim/engine.hpp"

#include <simgrid/s4u.hpp>

#include <chrono>
#include <iterator>
#include <list>
#include <cmath>
#include <stdexcept>

#include "models/common/rng.hpp"

namespace sg4 = simgrid::s4u;

namespace iopf {
namespace {

constexpr uint64_t kPageRequestBytes = 16;  // a PRI Page Request Message is a 4-DW header TLP
constexpr uint64_t kPrgResponseBytes = 16;  // PRG Response Message, likewise
constexpr uint64_t kHandoffBytes = 64;      // PRQ descriptor handed to the host (one cache line)
constexpr uint64_t kAtcInvBytes = 16;       // ATS Invalidate Request / Completion messages
constexpr uint32_t kReclaimBatch = 32;      // pages per reclaim pass: Linux SWAP_CLUSTER_MAX
constexpr uint32_t kHandlerBatch = 16;      // page requests one handler wake-up takes at most (chosen)
constexpr uint64_t kReclaimPollNs = 5000;   // a fault waiting for free memory looks again after (chosen)

enum class PrgCode : uint8_t { kSuccess = 0, kInvalid = 1, kFailure = 2 };

// One page request group (pages page requests, the last with Last set: each takes a PRQ
// entry), and the same object carries the PRG response back.
struct PageRequest {
  Path* path;
  uint64_t va;    // the faulting page; the group asks for the pages after it too
  bool write;
  uint32_t pages;
  PrgCode code = PrgCode::kSuccess;
  FaultKind kind = FaultKind::kNone;  // of the faulting page
};

struct InvRequest {
  size_t domain;  // index; unused for global
  InvKind kind;
  InvReason reason;
  InvFilter filter;
  uint64_t submitted_ns;
  uint32_t descriptors;  // queue slots it holds
  sg4::Mailbox* done;
};

struct AtcInvRequest {
  InvFilter filter;
};

uint64_t now_ns() { return static_cast<uint64_t>(std::llround(sg4::Engine::get_clock() * 1e9)); }

struct Run {
  Run(System& s, uint64_t end, uint64_t quantum) : sys(s), end_ns(end), quantum_ns(quantum) {}
  System& sys;
  uint64_t end_ns;
  uint64_t quantum_ns;
  uint64_t events = 0;
  sg4::Mailbox* prq = nullptr;
  sg4::Mailbox* faults = nullptr;
  sg4::Mailbox* invq = nullptr;
  sg4::Mailbox* atc_done = nullptr;
  sg4::Mailbox* kswapd_wake = nullptr;
  sg4::SemaphorePtr inv_slots;
  sg4::Disk* swap = nullptr;
  bool kswapd_busy = false;
  std::vector<sg4::Mailbox*> atc_inv_mb;  // per device, null without ATS
  std::string failure;                    // first exception thrown inside an actor

  // An exception must not escape an actor (SimGrid aborts): record it and stop the run.
  template <class Fn>
  void guarded(Fn fn) {
    try {
      fn();
    } catch (const std::exception& e) {
      if (failure.empty()) failure = std::string(sg4::this_actor::get_name()) + ": " + e.what();
      sg4::Actor::kill_all();
    }
  }

  void sleep_until(uint64_t t) {
    const uint64_t n = now_ns();
    if (t > n) {
      sg4::this_actor::sleep_for(static_cast<double>(t - n) * 1e-9);
      ++events;
    }
  }
  void cpu_work(uint64_t ns) {
    if (!ns) return;
    sg4::this_actor::execute(static_cast<double>(ns));
    ++events;
  }

  // ---- devices ----

  // One actor per device: its paths' DMAs are issued in time order (so the device's link
  // sees its transfers in order), inline, up to one quantum ahead of SimGrid time. A path
  // that faults stalls; its page request leaves when the fault is detected (and the device
  // has a free request slot), and the path resumes when its PRG response arrives, while the
  // other paths go on.
  void device_actor(Device* dev) {
    struct Waiting {
      Path* path;
      uint64_t sent_ns;
      PageRequest* response;
      sg4::CommPtr comm;
    };
    const DeviceSpec& ds = dev->spec();
    std::vector<Path>& paths = dev->paths();
    std::vector<Path*> to_send;                  // faulted, page request not yet sent
    std::vector<uint64_t> send_after(paths.size(), 0);  // back-off before a re-send
    std::vector<uint64_t> last_va(paths.size(), ~0ULL); // to count retries
    std::list<Waiting> waiting;  // get_async writes into response: addresses must stay put
    auto index_of = [&](const Path* p) { return static_cast<size_t>(p - paths.data()); };
    auto send_time = [&](const Path* p) { return std::max(p->pending().detected_ns, send_after[index_of(p)]); };
    for (;;) {
      const uint64_t now = now_ns();
      const uint64_t limit = now + quantum_ns;
      const uint32_t group = ds.prg_pages;
      const bool can_send = dev->pri_outstanding + group <= ds.pri_outstanding;
      // Inline: the earliest DMA first, until the window ends or a page request is due.
      uint64_t next_issue = Path::kNever;
      for (;;) {
        uint64_t send_at = Path::kNever;
        if (can_send)
          for (Path* p : to_send) send_at = std::min(send_at, send_time(p));
        Path* first = nullptr;
        next_issue = Path::kNever;
        for (Path& p : paths) {
          const uint64_t t = p.next_issue_ns(end_ns);
          if (t < next_issue) { next_issue = t; first = &p; }
        }
        if (!first || next_issue >= limit || send_at <= next_issue) break;
        if (!first->issue_one()) to_send.push_back(first);
      }
      // Page requests whose faults have been detected by now, while request slots last.
      for (size_t i = 0; i < to_send.size();) {
        Path* p = to_send[i];
        if (send_time(p) > now || dev->pri_outstanding + group > ds.pri_outstanding) { ++i; continue; }
        const size_t pi = index_of(p);
        if (last_va[pi] == p->pending().va) ++dev->pri_retries;
        last_va[pi] = p->pending().va;
        p->count_page_requests(group);
        dev->pri_requests += group;
        ++dev->pri_groups;
        dev->pri_outstanding += group;
        prq->put_init(new PageRequest{p, p->pending().va, p->pending().write, group}, kPageRequestBytes * group)->detach();
        ++events;
        waiting.push_back(Waiting{p, now, nullptr, nullptr});
        waiting.back().comm = sg4::Mailbox::by_name(mailbox_name(p))->get_async<PageRequest>(&waiting.back().response);
        to_send[i] = to_send.back();
        to_send.pop_back();
      }
      uint64_t wake = next_issue;
      if (dev->pri_outstanding + group <= ds.pri_outstanding)
        for (Path* p : to_send) wake = std::min(wake, std::max(send_time(p), now + 1));
      for (const Waiting& w : waiting) wake = std::min(wake, w.sent_ns + ds.pri_timeout_ns);
      if (wake == Path::kNever && waiting.empty() && to_send.empty()) return;  // every path is done
      if (waiting.empty()) {
        sleep_until(wake);
        continue;
      }
      std::vector<sg4::CommPtr> comms;
      for (const Waiting& w : waiting) comms.push_back(w.comm);
      const double timeout = wake == Path::kNever ? -1.0 : static_cast<double>(wake - now) * 1e-9;
      const ssize_t got = sg4::Comm::wait_any_for(comms, timeout);
      ++events;
      if (got < 0) {
        // Requests unanswered for pri_timeout were lost (PRQ overflow, drop): send again.
        const uint64_t t = now_ns();
        for (auto it = waiting.begin(); it != waiting.end();) {
          if (it->sent_ns + ds.pri_timeout_ns > t) { ++it; continue; }
          it->comm->cancel();
          ++dev->pri_timeouts;
          dev->pri_outstanding -= group;
          send_after[index_of(it->path)] = t + ds.pri_backoff_ns;
          to_send.push_back(it->path);
          it = waiting.erase(it);
        }
        continue;
      }
      auto wit = std::next(waiting.begin(), got);
      Waiting w = *wit;
      waiting.erase(wit);
      dev->pri_outstanding -= w.response->pages;
      const uint64_t t = now_ns();
      const PageRequest resp = *w.response;
      delete w.response;
      ++dev->pri_responses[static_cast<int>(resp.code)];
      dev->fault_latency_ns.record(t - w.sent_ns);
      if (resp.kind == FaultKind::kMajor) dev->fault_latency_major_ns.record(t - w.sent_ns);
      else if (resp.kind == FaultKind::kMinor || resp.kind == FaultKind::kWriteProtect)
        dev->fault_latency_minor_ns.record(t - w.sent_ns);
      if (resp.code != PrgCode::kSuccess) {
        w.path->fail_pending(t);
        continue;
      }
      if (!w.path->resume(t)) {  // faulted again (auto-answered, or the page went away): back off
        send_after[index_of(w.path)] = t + ds.pri_backoff_ns;
        to_send.push_back(w.path);
      }
    }
  }

  // ---- page requests ----

  void prq_actor() {
    for (;;) {
      auto* req = prq->get<PageRequest>();
      ++events;
      if (sys.prq_depth + req->pages > sys.sc.iommu.prq_depth) {
        ++sys.prq_overflows;
        if (sys.sc.iommu.prq_overflow == PrqOverflow::kDrop) {
          delete req;  // lost: the device times out
          continue;
        }
        ++sys.prq_auto_responses;  // answered Success without the host: the device will fault again
        respond(req);
        continue;
      }
      sys.prq_depth += req->pages;
      sys.prq_max_depth = std::max(sys.prq_max_depth, sys.prq_depth);
      cpu_work(sys.sc.iommu.prq_handling_ns);
      faults->put_init(req, kHandoffBytes)->detach();
      ++events;
    }
  }

  void respond(PageRequest* req) {
    sg4::Mailbox::by_name(mailbox_name(req->path))->put_init(req, kPrgResponseBytes)->detach();
    ++events;
  }

  // Host memory for a fault that needs `bytes`: reserved at once, or after reclaim frees it.
  // False when nothing can be reclaimed and nothing is free (the fault then fails).
  bool reserve(uint64_t bytes) {
    auto& host = sys.host;
    while (host.free_bytes() < bytes) {
      wake_reclaim();
      if (!any_reclaimable()) return false;
      ++host.reclaim_waits;
      sleep_until(now_ns() + kReclaimPollNs);
    }
    host.use(static_cast<int64_t>(bytes));
    if (host.free_bytes() < sys.sc.host.free_target_bytes) wake_reclaim();
    return true;
  }

  // Resolves one fault on the calling CPU core: cost, swap-in, mapping. Returns its kind;
  // kNone when it was already resolved, and sets *ok false when memory could not be had.
  FaultKind resolve_fault(Domain& dom, uint64_t va, bool write, bool* ok) {
    *ok = true;
    const FaultKind kind = dom.classify(va, write);
    if (kind == FaultKind::kNone) return kind;
    const uint64_t need = kind == FaultKind::kWriteProtect ? 0
                          : kind == FaultKind::kMajor      ? 4096
                                                           : (1ULL << dom.fault_page_lg2());
    if (need && !reserve(need)) {
      *ok = false;
      return kind;
    }
    uint64_t cpu = dom.spec().fault_ns;
    if (kind == FaultKind::kMajor) {
      cpu += dom.spec().major_fault_ns;
      sleep_until(now_ns() + sys.sc.host.swap_latency_ns);
      swap->read(4096);
      ++events;
      sys.host.swap_in_bytes += 4096;
    }
    cpu_work(cpu);
    sys.host.fault_cpu_ns += cpu;
    const uint64_t used = dom.resolve(va, write);
    sys.host.use(static_cast<int64_t>(used) - static_cast<int64_t>(need));
    if (kind == FaultKind::kWriteProtect) {
      // The IOMMU may cache the read-only entry: drop it with the upgrade (done synchronously).
      const uint64_t page = va & ~0xFFFULL;
      sys.iommu.invalidate(InvFilter{make_asid(dom.iommu_view().id, 0), kAsidDomainMask, page, page + 4096}, true);
    }
    return kind;
  }

  void fault_handler_actor() {
    std::vector<PageRequest*> batch;
    for (;;) {
      batch.assign(1, faults->get<PageRequest>());
      ++events;
      while (batch.size() < kHandlerBatch && faults->ready()) {  // answered together: one interrupt
        batch.push_back(faults->get<PageRequest>());
        ++events;
      }
      // Interrupt delivery and handler wake-up: latency, not CPU work.
      sleep_until(now_ns() + sys.sc.host.irq_latency_ns);
      for (PageRequest* req : batch) {
        Domain& dom = req->path->device().domain();
        bool ok = true;
        if (req->va >= dom.spec().memory_bytes) {
          req->code = PrgCode::kInvalid;
        } else {
          // The faulting page decides the response; the rest of the group is best effort
          // (pages past the end of guest memory are skipped).
          for (uint32_t i = 0; i < req->pages; ++i) {
            const uint64_t va = (req->va & ~0xFFFULL) + 4096ULL * i;
            if (va >= dom.spec().memory_bytes) break;
            bool page_ok = true;
            const FaultKind kind = resolve_fault(dom, i ? va : req->va, req->write, &page_ok);
            if (i == 0) {
              req->kind = kind;
              ok = page_ok;
            }
            if (kind == FaultKind::kMinor) ++sys.host.device_faults_minor;
            if (kind == FaultKind::kMajor) ++sys.host.device_faults_major;
            if (kind == FaultKind::kWriteProtect) ++sys.host.device_faults_wp;
          }
          req->code = ok ? PrgCode::kSuccess : PrgCode::kFailure;
        }
        sys.prq_depth -= req->pages;
        respond(req);
      }
    }
  }

  // ---- invalidation ----

  // Submits invalidations and waits until all have completed; returns the completion time.
  uint64_t invalidate(size_t dom_index, InvKind kind, InvReason reason, const std::vector<InvFilter>& filters,
                      sg4::Mailbox* done) {
    const Domain* dom = sys.domains[dom_index].get();
    uint32_t descriptors = 2;  // IOTLB/walk-cache descriptor + wait descriptor
    for (size_t i = 0; i < sys.devices.size(); ++i)
      if (atc_inv_mb[i] && (kind == InvKind::kGlobal || &sys.devices[i]->domain() == dom)) ++descriptors;
    descriptors = std::min<uint32_t>(descriptors, sys.sc.iommu.inv_queue_depth);
    for (const InvFilter& f : filters) {
      for (uint32_t d = 0; d < descriptors; ++d) inv_slots->acquire();
      sys.inv.queue_depth += descriptors;
      sys.inv.queue_max_depth = std::max(sys.inv.queue_max_depth, sys.inv.queue_depth);
      invq->put_init(new InvRequest{dom_index, kind, reason, f, now_ns(), descriptors, done}, 64)->detach();
      ++events;
    }
    for (size_t i = 0; i < filters.size(); ++i) {
      delete done->get<InvRequest>();
      ++events;
    }
    return now_ns();
  }

  void inv_queue_actor() {
    const IommuSpec& is = sys.sc.iommu;
    for (;;) {
      auto* req = invq->get<InvRequest>();
      ++events;
      cpu_work(is.inv_desc_ns);
      sys.inv.iommu_entries_removed += sys.iommu.invalidate(req->filter);
      const bool global = req->kind == InvKind::kGlobal;
      // Drain: untranslated DMAs already translated by the old entries finish first.
      uint64_t drain_until = 0;
      for (auto& d : sys.devices)
        if (!d->spec().ats && (global || &d->domain() == sys.domains[req->domain].get()))
          drain_until = std::max(drain_until, d->max_use_ns + 1);
      if (!sys.sc.engine.unsafe_batching) sleep_until(drain_until);
      int waiting = 0;
      for (size_t i = 0; i < sys.devices.size(); ++i) {
        if (!atc_inv_mb[i]) continue;
        if (!global && &sys.devices[i]->domain() != sys.domains[req->domain].get()) continue;
        atc_inv_mb[i]->put_init(new AtcInvRequest{req->filter}, kAtcInvBytes)->detach();
        ++events;
        ++waiting;
        ++sys.inv.atc_requests;
      }
      for (; waiting > 0; --waiting) {
        delete atc_done->get<AtcInvRequest>();
        ++events;
      }
      cpu_work(is.inv_wait_ns);
      const uint64_t latency = now_ns() - req->submitted_ns;
      const int k = static_cast<int>(req->kind);
      ++sys.inv.count[k];
      sys.inv.latency_ns[k].record(latency);
      auto& rs = sys.inv_by_reason[req->domain][static_cast<int>(req->reason)];
      ++rs.count;
      rs.latency_ns.record(latency);
      sys.inv.queue_depth -= req->descriptors;
      for (uint32_t d = 0; d < req->descriptors; ++d) inv_slots->release();
      req->done->put_init(req, 8)->detach();  // the wait descriptor's status write
      ++events;
    }
  }

  void atc_inv_actor(Device* dev, sg4::Mailbox* in) {
    for (;;) {
      auto* req = in->get<AtcInvRequest>();
      ++events;
      cpu_work(dev->spec().atc_inv_ns);
      dev->atc().invalidate(req->filter);
      ++dev->atc_invalidations;
      // In-flight DMAs that used old translations finish first.
      if (!sys.sc.engine.unsafe_batching) sleep_until(dev->max_use_ns + 1);
      atc_done->put_init(req, kAtcInvBytes)->detach();  // Invalidate Completion
      ++events;
    }
  }

  // The MMU-notifier step after the page table changed for [lo, hi): invalidate, and tell the
  // checker the change is complete. Returns the completion time.
  uint64_t invalidate_changed(size_t di, InvKind kind, InvReason reason, uint64_t lo, uint64_t hi, sg4::Mailbox* done) {
    const uint32_t id = sys.domains[di]->iommu_view().id;
    std::vector<uint64_t> keys;
    if (sys.checker) keys = sys.checker->on_zap(id, lo, hi);
    const uint64_t t = invalidate(di, kind, reason, {inv_filter(kind, id, 0, lo, hi)}, done);
    if (sys.checker) sys.checker->on_complete(keys, t);
    return t;
  }

  // Splits the large leaf holding gpa, if any, and invalidates it (reason THP split).
  void split_large(size_t di, uint64_t gpa, sg4::Mailbox* done) {
    Domain& dom = *sys.domains[di];
    uint64_t lo, hi;
    if (!dom.split_if_large(gpa, &lo, &hi)) return;
    ++sys.activity[di].thp_splits;
    invalidate(di, InvKind::kRange, InvReason::kThpSplit, {inv_filter(InvKind::kRange, dom.iommu_view().id, 0, lo, hi)},
               done);
  }

  // ---- host memory ----

  bool any_reclaimable() const {
    for (const auto& d : sys.domains)
      if (d->faultable() && d->resident_bytes() > d->pinned_bytes()) return true;
    return false;
  }

  void wake_reclaim() {
    if (kswapd_busy) return;
    kswapd_busy = true;
    static int token;  // the message is the wake-up; SimGrid needs a payload
    kswapd_wake->put_init(&token, 0)->detach();
    ++events;
  }

  // kswapd: takes resident pages, oldest first, round robin over the faultable domains,
  // until free_target is free: split, unmap, invalidate (the MMU notifier), write to swap,
  // and only then free.
  void reclaim_actor() {
    sg4::Mailbox* done = sg4::Mailbox::by_name("invdone:kswapd");
    size_t rr = 0;
    for (;;) {
      kswapd_wake->get<int>();
      ++events;
      while (sys.host.free_bytes() < sys.sc.host.free_target_bytes) {
        std::vector<std::vector<InvFilter>> filters(sys.domains.size());
        std::vector<std::vector<uint64_t>> keys(sys.domains.size());
        uint32_t taken = 0;
        for (uint32_t miss = 0; taken < kReclaimBatch && miss < sys.domains.size();) {
          const size_t di = rr++ % sys.domains.size();
          Domain& dom = *sys.domains[di];
          uint64_t gpa;
          if (!dom.faultable() || !dom.next_victim(&gpa)) { ++miss; continue; }
          miss = 0;
          split_large(di, gpa, done);
          if (dom.classify(gpa, false) != FaultKind::kNone) continue;  // faulted away meanwhile
          dom.evict(gpa, true);
          const uint32_t id = dom.iommu_view().id;
          filters[di].push_back(inv_filter(InvKind::kPage, id, 0, gpa, gpa + 4096));
          if (sys.checker) {
            auto k = sys.checker->on_zap(id, gpa, gpa + 4096);
            keys[di].insert(keys[di].end(), k.begin(), k.end());
          }
          ++taken;
        }
        if (!taken) break;  // nothing left to reclaim
        for (size_t di = 0; di < sys.domains.size(); ++di) {
          if (filters[di].empty()) continue;
          const uint64_t t = invalidate(di, InvKind::kPage, InvReason::kReclaim, filters[di], done);
          if (sys.checker) sys.checker->on_complete(keys[di], t);
        }
        sleep_until(now_ns() + sys.sc.host.swap_latency_ns);
        swap->write(static_cast<sg_size_t>(taken) * 4096);
        ++events;
        sys.host.swap_out_bytes += static_cast<uint64_t>(taken) * 4096;
        sys.host.reclaimed_pages += taken;
        sys.host.use(-static_cast<int64_t>(taken) * 4096);
      }
      kswapd_busy = false;
    }
  }

  // Calls step() every 1/rate_per_s from time 0 until the run ends; a step that blocks
  // (a fault, an invalidation) delays the ones after it, as one host thread would.
  template <class Step>
  void at_rate(double rate_per_s, Step step) {
    const uint64_t period_ps = static_cast<uint64_t>(std::llround(1e12 / rate_per_s));
    for (uint64_t due_ps = 0; due_ps / 1000 < end_ns; due_ps += period_ps) {
      sleep_until(due_ps / 1000);
      step();
    }
  }

  // Guest vCPUs touch random pages; a touch of an absent page is a fault on a host core.
  void vcpu_actor(size_t di, uint32_t vcpu) {
    Domain& dom = *sys.domains[di];
    Rng rng(sys.sc.seed, 6000 + 64 * di + vcpu);
    at_rate(dom.spec().vcpu_touch_rate_per_s / dom.spec().vcpus, [&] {
      const uint64_t va = rng.below(dom.spec().memory_bytes >> 12) << 12;
      ++sys.activity[di].vcpu_touches;
      bool ok;
      if (resolve_fault(dom, va, false, &ok) != FaultKind::kNone) ++sys.activity[di].vcpu_faults;
    });
  }

  // Compaction or NUMA balancing moves resident pages: unmap, invalidate, copy, map anew.
  void migration_actor(size_t di) {
    Domain& dom = *sys.domains[di];
    sg4::Mailbox* done = sg4::Mailbox::by_name("invdone:migrate:" + std::to_string(di));
    Rng rng(sys.sc.seed, 7000 + di);
    at_rate(dom.spec().migration_rate_per_s, [&] {
      uint64_t gpa;
      if (!dom.random_resident(rng, &gpa)) return;
      split_large(di, gpa, done);
      if (dom.classify(gpa, false) != FaultKind::kNone) return;
      dom.evict(gpa, false);
      invalidate_changed(di, InvKind::kPage, InvReason::kMigration, gpa, gpa + 4096, done);
      cpu_work(dom.spec().migration_copy_ns);
      dom.place_migrated(gpa);
      ++sys.activity[di].migrations;
    });
  }

  // khugepaged: collapse 512 resident 4 KiB pages into a new 2 MiB page. The 4 KiB
  // translations go (invalidated) before the copy is mapped; DMAs meanwhile fault and wait.
  void collapse_actor(size_t di) {
    Domain& dom = *sys.domains[di];
    sg4::Mailbox* done = sg4::Mailbox::by_name("invdone:collapse:" + std::to_string(di));
    Rng rng(sys.sc.seed, 8000 + di);
    at_rate(dom.spec().thp_collapse_rate_per_s, [&] {
      uint64_t lo;
      if (!dom.begin_collapse(rng, &lo)) return;
      invalidate_changed(di, InvKind::kRange, InvReason::kThpCollapse, lo, lo + (2ULL << 20), done);
      cpu_work(dom.spec().thp_collapse_copy_ns);
      dom.place_collapsed(lo);
      ++sys.activity[di].thp_collapses;
    });
  }

  // Dirty logging (live migration): write-protect every unpinned resident page, flush.
  void dirty_log_actor(size_t di) {
    Domain& dom = *sys.domains[di];
    sg4::Mailbox* done = sg4::Mailbox::by_name("invdone:dirty:" + std::to_string(di));
    for (uint64_t t = dom.spec().dirty_log_start_ns; t < end_ns; t += dom.spec().dirty_log_interval_ns) {
      sleep_until(t);
      const uint64_t bytes = dom.write_protect_all();
      ++sys.activity[di].dirty_log_cycles;
      sys.activity[di].write_protected_bytes += bytes;
      if (bytes)
        invalidate(di, InvKind::kDomain, InvReason::kDirtyLog,
                   {inv_filter(InvKind::kDomain, dom.iommu_view().id, 0, 0, ~0ULL)}, done);
    }
  }

  // ---- scripted invalidation sources ----

  void invalidation_source_actor(const InvalidationSpec& spec, size_t index) {
    const size_t di = spec.domain_index;
    Domain* dom = sys.domains[di].get();
    const uint32_t dom_id = dom->iommu_view().id;
    sg4::Mailbox* done = sg4::Mailbox::by_name("invdone:" + std::to_string(index));
    Rng rng(sys.sc.seed, 5000 + index);
    const uint64_t period_ps = static_cast<uint64_t>(std::llround(1e12 / spec.rate_per_s));
    const uint64_t slots = spec.region_bytes / spec.range_bytes;
    std::vector<uint64_t> pending_keys;  // checker pages zapped and not yet flushed (batching)
    std::vector<uint64_t> pending_lo;    // ranges to map again after the flush (remap)
    uint32_t pending = 0;
    uint64_t first_pending_ns = 0;
    auto take_away = [&](uint64_t lo, std::vector<uint64_t>* keys) {
      for (uint64_t p = lo; p < lo + spec.range_bytes; p += 4096) {
        if (dom->classify(p, false) != FaultKind::kNone) continue;  // not present
        if (dom->is_pinned(p) && spec.action == InvAction::kZap) continue;
        const uint64_t before = dom->resident_bytes();
        dom->evict(p, false);
        if (spec.action == InvAction::kZap) sys.host.use(-static_cast<int64_t>(before - dom->resident_bytes()));
        if (sys.checker) {
          auto k = sys.checker->on_zap(dom_id, p, p + 4096);
          keys->insert(keys->end(), k.begin(), k.end());
        }
      }
    };
    auto put_back = [&](uint64_t lo) {  // remap: each page taken away comes back in a new frame
      for (uint64_t p = lo; p < lo + spec.range_bytes; p += 4096)
        if (dom->classify(p, false) == FaultKind::kMinor) dom->place_migrated(p);
    };
    auto flush = [&]() {
      const uint64_t t = invalidate(di, InvKind::kDomain, InvReason::kScripted,
                                    {inv_filter(InvKind::kDomain, dom_id, 0, 0, ~0ULL)}, done);
      ++sys.inv.batched_flushes;
      if (sys.checker) sys.checker->on_complete(pending_keys, t);
      for (uint64_t lo : pending_lo) put_back(lo);
      pending_keys.clear();
      pending_lo.clear();
      pending = 0;
    };
    for (uint64_t due_ps = 0;; due_ps += period_ps) {
      const uint64_t due = spec.start_ns + due_ps / 1000;
      if (pending && first_pending_ns + spec.batch_timeout_ns <= std::min(due, end_ns)) {
        sleep_until(first_pending_ns + spec.batch_timeout_ns);
        flush();
      }
      if (due >= end_ns) break;
      sleep_until(due);
      ++sys.inv.source_events;
      const uint64_t lo = spec.region_base + rng.below(slots) * spec.range_bytes;
      const uint64_t hi = lo + spec.range_bytes;
      std::vector<uint64_t> keys;
      if (spec.action != InvAction::kFlush) take_away(lo, &keys);
      if (spec.batch_entries) {
        if (!pending) first_pending_ns = now_ns();
        pending_keys.insert(pending_keys.end(), keys.begin(), keys.end());
        if (spec.action == InvAction::kRemap) pending_lo.push_back(lo);
        if (++pending >= spec.batch_entries) flush();
      } else {
        const uint64_t t =
            invalidate(di, spec.kind, InvReason::kScripted, {inv_filter(spec.kind, dom_id, spec.pasid, lo, hi)}, done);
        if (sys.checker) sys.checker->on_complete(keys, t);
        // Only now, with every cache flushed, may the old frame be reused and the page come back.
        if (spec.action == InvAction::kRemap) put_back(lo);
      }
    }
    if (pending) flush();
  }

  static std::string mailbox_name(const Path* p) {
    return "prg:" + std::to_string(reinterpret_cast<uintptr_t>(p));
  }
};

// Where a translation can be taken away while DMAs run, the quantum must be clamped.
bool invalidations_possible(const System& sys) {
  if (!sys.sc.invalidations.empty()) return true;
  for (const auto& d : sys.domains)
    if (d->faultable()) return true;  // reclaim, migration, dirty logging
  return false;
}

}  // namespace

EngineStats run_engine(System& sys, const std::vector<std::string>& simgrid_args) {
  std::vector<std::string> args = {"iopfsim",
                                   "--cfg=network/model:CM02",
                                   "--cfg=network/crosstraffic:0",
                                   "--cfg=surf/precision:1e-12",
                                   "--log=root.thresh:warning"};
  args.insert(args.end(), simgrid_args.begin(), simgrid_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(args.size());
  sg4::Engine e(&argc, argv.data());

  bool deadlock = false;
  sg4::Engine::on_deadlock_cb([&deadlock]() { deadlock = true; });

  const Scenario& sc = sys.sc;
  auto* zone = sg4::create_full_zone("iopfsim");
  sg4::Host* cpu = zone->create_host("cpu", 1e9);
  cpu->set_core_count(static_cast<int>(sc.host.cores));
  sg4::Disk* swap = cpu->create_disk("swap", sc.host.swap_read_bytes_per_s, sc.host.swap_write_bytes_per_s)->seal();
  cpu->seal();
  sg4::Host* iommu = zone->create_host("iommu", 1e9)->seal();
  // IOMMU to CPU: a write to memory and an interrupt message; the interrupt's wake-up
  // latency is host.irq_latency, spent in the handler. 100 ns: chosen (one memory write).
  sg4::Link* rc = zone->create_link("root_complex", 1e12)->set_latency(100e-9)->seal();
  zone->add_route(iommu->get_netpoint(), cpu->get_netpoint(), nullptr, nullptr, {sg4::LinkInRoute(rc)}, true);
  std::vector<sg4::Host*> dev_hosts;
  for (size_t i = 0; i < sys.devices.size(); ++i) {
    const DeviceSpec& ds = sys.devices[i]->spec();
    sg4::Host* h = zone->create_host("dev:" + ds.name, 1e9)->seal();
    sg4::Link* l = zone->create_link("pcie:" + ds.name, ds.pcie_bandwidth_bytes_per_s)
                       ->set_latency(static_cast<double>(ds.pcie_latency_ns) * 1e-9)
                       ->seal();
    zone->add_route(h->get_netpoint(), iommu->get_netpoint(), nullptr, nullptr, {sg4::LinkInRoute(l)}, true);
    zone->add_route(h->get_netpoint(), cpu->get_netpoint(), nullptr, nullptr,
                    {sg4::LinkInRoute(l), sg4::LinkInRoute(rc)}, true);
    dev_hosts.push_back(h);
  }
  zone->seal();

  // The batch rule's clamp (see the top of this file).
  uint64_t quantum = sc.engine.quantum_ns;
  if (invalidations_possible(sys) && !sc.engine.unsafe_batching)
    quantum = std::min(quantum, sc.iommu.inv_desc_ns + sc.iommu.inv_wait_ns);
  Run run{sys, sc.duration_ns, quantum};
  run.prq = sg4::Mailbox::by_name("prq");
  run.faults = sg4::Mailbox::by_name("faults");
  run.invq = sg4::Mailbox::by_name("invq");
  run.atc_done = sg4::Mailbox::by_name("atc_done");
  run.kswapd_wake = sg4::Mailbox::by_name("kswapd");
  run.inv_slots = sg4::Semaphore::create(sc.iommu.inv_queue_depth);
  run.swap = swap;

  auto daemon = [](const std::string& name, sg4::Host* h, std::function<void()> body) {
    sg4::Actor::create(name, h, std::move(body))->daemonize();
  };
  daemon("prq", iommu, [&run]() { run.guarded([&] { run.prq_actor(); }); });
  daemon("inv_queue", iommu, [&run]() { run.guarded([&] { run.inv_queue_actor(); }); });
  daemon("kswapd", cpu, [&run]() { run.guarded([&] { run.reclaim_actor(); }); });
  for (uint32_t c = 0; c < sc.host.cores; ++c)
    daemon("fault_handler:" + std::to_string(c), cpu, [&run]() { run.guarded([&] { run.fault_handler_actor(); }); });
  for (size_t di = 0; di < sys.domains.size(); ++di) {
    const DomainSpec& ds = sys.domains[di]->spec();
    if (!sys.domains[di]->faultable()) continue;
    // Host-side activity runs while devices do; it stops with them (daemons).
    if (ds.vcpu_touch_rate_per_s > 0)
      for (uint32_t v = 0; v < ds.vcpus; ++v)
        daemon("vcpu:" + ds.name + ":" + std::to_string(v), cpu,
               [&run, di, v]() { run.guarded([&] { run.vcpu_actor(di, v); }); });
    if (ds.migration_rate_per_s > 0)
      daemon("migrate:" + ds.name, cpu, [&run, di]() { run.guarded([&] { run.migration_actor(di); }); });
    if (ds.thp_collapse_rate_per_s > 0)
      daemon("khugepaged:" + ds.name, cpu, [&run, di]() { run.guarded([&] { run.collapse_actor(di); }); });
    if (ds.dirty_log_interval_ns > 0)
      daemon("dirty_log:" + ds.name, cpu, [&run, di]() { run.guarded([&] { run.dirty_log_actor(di); }); });
  }
  for (size_t i = 0; i < sys.devices.size(); ++i) {
    Device* dev = sys.devices[i].get();
    sg4::Mailbox* mb = nullptr;
    if (dev->spec().ats) {
      mb = sg4::Mailbox::by_name("atcinv:" + dev->spec().name);
      daemon("atc_inv:" + dev->spec().name, dev_hosts[i],
             [&run, dev, mb]() { run.guarded([&] { run.atc_inv_actor(dev, mb); }); });
    }
    run.atc_inv_mb.push_back(mb);
    sg4::Actor::create("device:" + dev->spec().name, dev_hosts[i],
                       [&run, dev]() { run.guarded([&] { run.device_actor(dev); }); });
  }
  for (size_t i = 0; i < sc.invalidations.size(); ++i) {
    const InvalidationSpec* spec = &sc.invalidations[i];
    sg4::Actor::create("invalidations:" + spec->name, cpu,
                       [&run, spec, i]() { run.guarded([&] { run.invalidation_source_actor(*spec, i); }); });
  }

  const auto t0 = std::chrono::steady_clock::now();
  e.run();
  const auto t1 = std::chrono::steady_clock::now();
  if (!run.failure.empty()) throw std::runtime_error("simulation failed in actor " + run.failure);
  if (deadlock) throw std::runtime_error("simulation deadlocked: actors wait on each other with no event pending");

  EngineStats st;
  st.simulated_ns = now_ns();
  st.events = run.events;
  st.wall_s = std::chrono::duration<double>(t1 - t0).count();
  st.quantum_ns = run.quantum_ns;
  return st;
}

}  // namespace iopf
