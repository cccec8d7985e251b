// The SimGrid engine around the inline models.
//
// Platform: host "cpu" (host.cores cores at 1 Gflop/s, so one flop is one ns of work),
// host "iommu", one host per device; a PCIe link per device (latency, bandwidth) to the
// IOMMU and a root-complex link from the IOMMU to the CPU.
//
// Actors: one per device (on its own host), the page request queue (on the IOMMU),
// one fault handler per CPU core, the invalidation queue (on the IOMMU), one ATC
// invalidation handler per ATS device, and one actor per invalidation source (on the CPU).
// Servers are daemons: the run ends when every device has issued its last DMA, every page
// request is answered and every invalidation a source submitted has completed.
//
// Invalidation: the source changes the page table, then submits a request; it takes
// descriptors in the invalidation queue (blocking when the queue is full); the queue works
// requests in order: an IOTLB/walk-cache descriptor (inv_desc; entries leave the IOMMU's
// caches then), an ATS Invalidate Request over PCIe to every ATS device of the domain, each
// answering with an Invalidate Completion after atc_inv (its ATC entries leave then), and
// the wait descriptor (inv_wait), whose write is the completion the source waits for.
//
// The batch rule (architecture.md): a device actor runs its paths' DMAs inline, without
// SimGrid, in time order, for every DMA due in [now, now + quantum), then sleeps to its next
// due DMA. It syncs earlier when a DMA faults: it sleeps to the time the fault was detected
// and only then sends the page request. So no DMA runs more than one quantum ahead of
// SimGrid time. Where an invalidation can take a translation
// away, the quantum is clamped to the shortest time an invalidation can take to complete;
// an invalidation started at or after `now` then completes at or after the window's end,
// so no DMA *issued* in the window uses a translation after its invalidation completed. A
// DMA's data phase starts after its translation (an ATS round trip, a walk), so it can land
// past the window: as real devices do, an ATC's Invalidate Completion (and the IOMMU's
// drain of untranslated DMA) waits until the device's DMAs that used old translations have
// started, which the device tracks as max_use_ns. The clamp keeps that wait short; the
// drain makes it exact. The checker verifies both in every test.
#include "sim/engine.hpp"

#include <simgrid/s4u.hpp>

#include <chrono>
#include <cmath>
#include <stdexcept>

#include "sim/rng.hpp"

namespace sg4 = simgrid::s4u;

namespace iopf {
namespace {

constexpr uint64_t kPageRequestBytes = 16;  // a PRI Page Request Message is a 4-DW header TLP
constexpr uint64_t kPrgResponseBytes = 16;  // PRG Response Message, likewise
constexpr uint64_t kHandoffBytes = 64;      // PRQ descriptor handed to the host (one cache line)

constexpr uint64_t kAtcInvBytes = 16;       // ATS Invalidate Request / Completion messages

struct PageRequest {
  Path* path;
  uint64_t va;
};

struct InvRequest {
  Domain* dom;
  InvKind kind;
  InvFilter filter;
  uint64_t submitted_ns;
  uint32_t descriptors;  // queue slots it holds
  sg4::Mailbox* done;
};

struct AtcInvRequest {
  InvFilter filter;
};

InvFilter filter_for(InvKind kind, uint32_t domain_id, uint32_t pasid, uint64_t lo, uint64_t hi) {
  switch (kind) {
    case InvKind::kPage:
    case InvKind::kRange: return InvFilter{make_asid(domain_id, 0), kAsidDomainMask, lo, hi};
    case InvKind::kDomain: return InvFilter{make_asid(domain_id, 0), kAsidDomainMask, 0, ~0ULL};
    case InvKind::kPasid: return InvFilter{make_asid(domain_id, pasid), ~0ULL, 0, ~0ULL};
    case InvKind::kGlobal: return InvFilter{0, 0, 0, ~0ULL};
  }
  return InvFilter{};
}

uint64_t now_ns() { return static_cast<uint64_t>(std::llround(sg4::Engine::get_clock() * 1e9)); }

struct Run {
  System& sys;
  uint64_t end_ns;
  uint64_t quantum_ns;
  uint64_t events = 0;
  sg4::Mailbox* prq = nullptr;
  sg4::Mailbox* faults = nullptr;
  sg4::Mailbox* invq = nullptr;
  sg4::Mailbox* atc_done = nullptr;
  sg4::SemaphorePtr inv_slots;
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

  // One actor per device: its paths' DMAs are issued in time order (so the device's link
  // sees its transfers in order), inline, up to one quantum ahead of SimGrid time. A path
  // that faults stalls; its page request leaves when the fault is detected, and the path
  // resumes when its PRG response arrives, while the other paths go on.
  void device_actor(Device* dev) {
    struct Waiting {
      Path* path;
      uint64_t sent_ns;
      PageRequest* response;
      sg4::CommPtr comm;
    };
    std::vector<Path>& paths = dev->paths();
    std::vector<Path*> to_send;  // faulted, page request not yet sent (sent at detection time)
    std::vector<Waiting> waiting;
    for (;;) {
      const uint64_t now = now_ns();
      const uint64_t limit = now + quantum_ns;
      // Inline: the earliest DMA first, until the window ends or a page request is due.
      uint64_t next_issue = Path::kNever;
      for (;;) {
        uint64_t send_at = Path::kNever;
        for (Path* p : to_send) send_at = std::min(send_at, p->pending().detected_ns);
        Path* first = nullptr;
        next_issue = Path::kNever;
        for (Path& p : paths) {
          const uint64_t t = p.next_issue_ns(end_ns);
          if (t < next_issue) { next_issue = t; first = &p; }
        }
        if (!first || next_issue >= limit || send_at <= next_issue) break;
        if (!first->issue_one()) to_send.push_back(first);
      }
      // Page requests whose faults have been detected by now.
      for (size_t i = 0; i < to_send.size();) {
        Path* p = to_send[i];
        if (p->pending().detected_ns > now) { ++i; continue; }
        p->count_page_request();
        ++dev->pri_requests;
        prq->put_init(new PageRequest{p, p->pending().va}, kPageRequestBytes)->detach();
        ++events;
        Waiting w{p, now, nullptr, nullptr};
        waiting.push_back(w);
        waiting.back().comm = sg4::Mailbox::by_name(mailbox_name(p))->get_async<PageRequest>(&waiting.back().response);
        to_send[i] = to_send.back();
        to_send.pop_back();
      }
      uint64_t wake = next_issue;
      for (Path* p : to_send) wake = std::min(wake, p->pending().detected_ns);
      if (wake == Path::kNever && waiting.empty()) return;  // every path is done
      if (wake < limit && wake > now) wake = std::max(wake, now);  // a send inside the window
      if (waiting.empty()) {
        sleep_until(wake);
        continue;
      }
      std::vector<sg4::CommPtr> comms;
      for (const Waiting& w : waiting) comms.push_back(w.comm);
      const double timeout = wake == Path::kNever ? -1.0 : static_cast<double>(wake - now) * 1e-9;
      const ssize_t got = sg4::Comm::wait_any_for(comms, timeout);
      ++events;
      if (got < 0) continue;  // woke for the next DMA or page request
      Waiting w = waiting[static_cast<size_t>(got)];
      waiting.erase(waiting.begin() + got);
      delete w.response;  // the PRG response (Success)
      dev->fault_latency_ns.record(now_ns() - w.sent_ns);
      if (!w.path->resume(now_ns())) to_send.push_back(w.path);  // the page went away again
    }
  }

  void prq_actor() {
    for (;;) {
      auto* req = prq->get<PageRequest>();
      ++events;
      ++sys.prq_depth;
      sys.prq_max_depth = std::max(sys.prq_max_depth, sys.prq_depth);
      if (sys.sc.iommu.prq_handling_ns) {
        sg4::this_actor::execute(static_cast<double>(sys.sc.iommu.prq_handling_ns));
        ++events;
      }
      faults->put_init(req, kHandoffBytes)->detach();
      ++events;
    }
  }

  void fault_handler_actor() {
    for (;;) {
      auto* req = faults->get<PageRequest>();
      ++events;
      // Interrupt delivery and handler wake-up: latency, not CPU work.
      if (sys.sc.host.irq_latency_ns) {
        sg4::this_actor::sleep_for(static_cast<double>(sys.sc.host.irq_latency_ns) * 1e-9);
        ++events;
      }
      Domain& dom = req->path->device().domain();
      if (dom.spec().fault_ns) {
        sg4::this_actor::execute(static_cast<double>(dom.spec().fault_ns));
        ++events;
      }
      dom.fault_in(req->va);
      --sys.prq_depth;
      sg4::Mailbox::by_name(mailbox_name(req->path))->put_init(req, kPrgResponseBytes)->detach();
      ++events;
    }
  }

  // Submits one invalidation and waits for its completion; returns the completion time.
  uint64_t invalidate(Domain* dom, InvKind kind, const InvFilter& f, sg4::Mailbox* done) {
    uint32_t descriptors = 2;  // IOTLB/walk-cache descriptor + wait descriptor
    for (size_t i = 0; i < sys.devices.size(); ++i)
      if (atc_inv_mb[i] && (kind == InvKind::kGlobal || &sys.devices[i]->domain() == dom)) ++descriptors;
    descriptors = std::min<uint32_t>(descriptors, sys.sc.iommu.inv_queue_depth);
    for (uint32_t d = 0; d < descriptors; ++d) inv_slots->acquire();
    sys.inv.queue_depth += descriptors;
    sys.inv.queue_max_depth = std::max(sys.inv.queue_max_depth, sys.inv.queue_depth);
    invq->put_init(new InvRequest{dom, kind, f, now_ns(), descriptors, done}, 64)->detach();
    ++events;
    delete done->get<InvRequest>();
    ++events;
    return now_ns();
  }

  void inv_queue_actor() {
    const IommuSpec& is = sys.sc.iommu;
    for (;;) {
      auto* req = invq->get<InvRequest>();
      ++events;
      sg4::this_actor::execute(static_cast<double>(is.inv_desc_ns));
      ++events;
      sys.inv.iommu_entries_removed += sys.iommu.invalidate(req->filter);
      // Drain: untranslated DMAs already translated by the old entries finish first.
      uint64_t drain_until = 0;
      for (size_t i = 0; i < sys.devices.size(); ++i) {
        Device& d = *sys.devices[i];
        if (!d.spec().ats && (req->kind == InvKind::kGlobal || &d.domain() == req->dom))
          drain_until = std::max(drain_until, d.max_use_ns + 1);
      }
      if (!sys.sc.engine.unsafe_batching) sleep_until(drain_until);
      int waiting = 0;
      for (size_t i = 0; i < sys.devices.size(); ++i) {
        if (!atc_inv_mb[i]) continue;
        if (req->kind != InvKind::kGlobal && &sys.devices[i]->domain() != req->dom) continue;
        atc_inv_mb[i]->put_init(new AtcInvRequest{req->filter}, kAtcInvBytes)->detach();
        ++events;
        ++waiting;
        ++sys.inv.atc_requests;
      }
      for (; waiting > 0; --waiting) {
        delete atc_done->get<AtcInvRequest>();
        ++events;
      }
      sg4::this_actor::execute(static_cast<double>(is.inv_wait_ns));
      ++events;
      const int k = static_cast<int>(req->kind);
      ++sys.inv.count[k];
      sys.inv.latency_ns[k].record(now_ns() - req->submitted_ns);
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
      if (dev->spec().atc_inv_ns) {
        sg4::this_actor::execute(static_cast<double>(dev->spec().atc_inv_ns));
        ++events;
      }
      dev->atc().invalidate(req->filter);
      ++dev->atc_invalidations;
      // In-flight DMAs that used old translations finish first.
      if (!sys.sc.engine.unsafe_batching) sleep_until(dev->max_use_ns + 1);
      atc_done->put_init(req, kAtcInvBytes)->detach();  // Invalidate Completion
      ++events;
    }
  }

  void invalidation_source_actor(const InvalidationSpec& spec, size_t index) {
    Domain* dom = sys.domains[spec.domain_index].get();
    const uint32_t dom_id = dom->iommu_view().id;
    sg4::Mailbox* done = sg4::Mailbox::by_name("invdone:" + std::to_string(index));
    Rng rng(sys.sc.seed, 5000 + index);
    const uint64_t period_ps = static_cast<uint64_t>(std::llround(1e12 / spec.rate_per_s));
    const uint64_t slots = spec.region_bytes / spec.range_bytes;
    std::vector<uint64_t> pending_keys;  // checker pages zapped and not yet flushed (batching)
    std::vector<uint64_t> pending_lo;    // ranges to map again after the flush (remap)
    uint32_t pending = 0;
    uint64_t first_pending_ns = 0;
    auto flush = [&]() {
      const uint64_t t = invalidate(dom, InvKind::kDomain, filter_for(InvKind::kDomain, dom_id, 0, 0, ~0ULL), done);
      ++sys.inv.batched_flushes;
      if (sys.checker) sys.checker->on_complete(pending_keys, t);
      for (uint64_t lo : pending_lo) dom->remap_moved(lo, spec.range_bytes);
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
      if (spec.action != InvAction::kFlush) {
        dom->zap(lo, spec.range_bytes);
        if (sys.checker) keys = sys.checker->on_zap(dom_id, lo, hi);
      }
      if (spec.batch_entries) {
        if (!pending) first_pending_ns = now_ns();
        pending_keys.insert(pending_keys.end(), keys.begin(), keys.end());
        if (spec.action == InvAction::kRemap) pending_lo.push_back(lo);
        if (++pending >= spec.batch_entries) flush();
      } else {
        const uint64_t t = invalidate(dom, spec.kind, filter_for(spec.kind, dom_id, spec.pasid, lo, hi), done);
        if (sys.checker) sys.checker->on_complete(keys, t);
      }
      // Only now, with every cache flushed, may the old frame be reused and the page come back.
      if (spec.action == InvAction::kRemap && !spec.batch_entries) dom->remap_moved(lo, spec.range_bytes);
    }
    if (pending) flush();
  }

  static std::string mailbox_name(const Path* p) {
    return "prg:" + std::to_string(reinterpret_cast<uintptr_t>(p));
  }
};

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
  if (!sc.invalidations.empty() && !sc.engine.unsafe_batching) quantum = std::min(quantum, sc.iommu.inv_desc_ns + sc.iommu.inv_wait_ns);
  Run run{sys, sc.duration_ns, quantum};
  run.prq = sg4::Mailbox::by_name("prq");
  run.faults = sg4::Mailbox::by_name("faults");
  run.invq = sg4::Mailbox::by_name("invq");
  run.atc_done = sg4::Mailbox::by_name("atc_done");
  run.inv_slots = sg4::Semaphore::create(sc.iommu.inv_queue_depth);

  sg4::Actor::create("prq", iommu, [&run]() { run.guarded([&] { run.prq_actor(); }); })->daemonize();
  sg4::Actor::create("inv_queue", iommu, [&run]() { run.guarded([&] { run.inv_queue_actor(); }); })->daemonize();
  for (uint32_t c = 0; c < sc.host.cores; ++c)
    sg4::Actor::create("fault_handler:" + std::to_string(c), cpu,
                       [&run]() { run.guarded([&] { run.fault_handler_actor(); }); })
        ->daemonize();
  for (size_t i = 0; i < sys.devices.size(); ++i) {
    Device* dev = sys.devices[i].get();
    sg4::Mailbox* mb = nullptr;
    if (dev->spec().ats) {
      mb = sg4::Mailbox::by_name("atcinv:" + dev->spec().name);
      sg4::Actor::create("atc_inv:" + dev->spec().name, dev_hosts[i],
                         [&run, dev, mb]() { run.guarded([&] { run.atc_inv_actor(dev, mb); }); })
          ->daemonize();
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
