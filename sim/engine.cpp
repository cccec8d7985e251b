// The SimGrid engine around the inline models: it builds the platform and wires the
// slow-path parts together; each part's file says what it models.
//
// Platform: host "cpu" (host.cores cores at 1 Gflop/s, so one flop is one ns of work) with
// a swap disk, host "iommu", one host per device; a PCIe link per device (latency,
// bandwidth) to the IOMMU and a root-complex link from the IOMMU to the CPU. CPU work on the
// host's cores goes through sim/cpu_cores.hpp (SimGrid's sharing, a timed wait while unshared).
//
// Parts and their threads (actors):
//  - fault handling (sim/fault_handling.cpp): the PRQ on the IOMMU, a handler per CPU core;
//  - the invalidation queue (sim/invalidation_queue.cpp) on the IOMMU, and an ATC
//    invalidation handler per ATS device;
//  - host memory (models/host/host_memory.cpp): kswapd;
//  - host activity (models/host/activity.cpp): per faultable domain vCPUs, migration,
//    khugepaged and dirty logging where the scenario asks, and one thread per scripted
//    invalidation source;
//  - the device side (sim/device_side.cpp): one actor per device;
//  - guest drivers (models/device/guest_driver.cpp): a vCPU thread per path that maps its
//    buffers through the DMA API; it issues that path's DMAs itself, at SimGrid time.
// Servers are daemons: the run ends when every device has issued its last DMA, every page
// request is answered and every scripted invalidation has completed.
//
// The batch rule (hot path inline, SimGrid for the slow path): a device actor runs its paths' DMAs inline, without
// SimGrid, in time order, for every DMA due in [now, now + quantum), then sleeps to its next
// due DMA. It syncs earlier when a DMA faults: it sleeps to the time the fault was detected
// and only then sends the page request. So no DMA is issued more than one quantum ahead of
// SimGrid time (a retried DMA goes no earlier than it was due: its page's response may come
// before that). Where an invalidation can take a translation away (can_invalidate), the quantum is clamped
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

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>

#include "models/device/guest_driver.hpp"
#include "sim/device_side.hpp"
#include "sim/sim_services.hpp"

namespace sg4 = simgrid::s4u;

namespace iopf {
namespace {

// IOMMU to CPU: a write to memory and an interrupt message; the interrupt's wake-up
// latency is host.irq_latency, spent in the handler. 100 ns: chosen (one memory write);
// 1 TB/s: chosen, so fast that no message waits for it.
constexpr HostLink kHostLink{100, 1e12};

struct Platform {
  sg4::Host* cpu;
  sg4::Disk* swap;
  sg4::Host* iommu;
  std::vector<sg4::Host*> devices;
};

Platform build_platform(const System& sys) {
  const Scenario& sc = sys.sc;
  Platform p;
  auto* zone = sg4::create_full_zone("iopfsim");
  p.cpu = zone->create_host("cpu", 1e9);
  p.cpu->set_core_count(static_cast<int>(sc.host.cores));
  p.swap = p.cpu->create_disk("swap", sc.host.swap_read_bytes_per_s, sc.host.swap_write_bytes_per_s)->seal();
  p.cpu->seal();
  p.iommu = zone->create_host("iommu", 1e9)->seal();
  sg4::Link* rc = zone->create_link("root_complex", kHostLink.bytes_per_s)
                     ->set_latency(static_cast<double>(kHostLink.latency_ns) * 1e-9)
                     ->seal();
  zone->add_route(p.iommu->get_netpoint(), p.cpu->get_netpoint(), nullptr, nullptr, {sg4::LinkInRoute(rc)}, true);
  for (const auto& dev : sys.devices) {
    const DeviceSpec& ds = dev->spec();
    sg4::Host* h = zone->create_host("dev:" + ds.name, 1e9)->seal();
    sg4::Link* l = zone->create_link("pcie:" + ds.name, ds.pcie_bandwidth_bytes_per_s)
                       ->set_latency(static_cast<double>(ds.pcie_latency_ns) * 1e-9)
                       ->seal();
    zone->add_route(h->get_netpoint(), p.iommu->get_netpoint(), nullptr, nullptr, {sg4::LinkInRoute(l)}, true);
    zone->add_route(h->get_netpoint(), p.cpu->get_netpoint(), nullptr, nullptr,
                    {sg4::LinkInRoute(l), sg4::LinkInRoute(rc)}, true);
    p.devices.push_back(h);
  }
  zone->seal();
  return p;
}

// Whether a translation can be taken away while DMAs run: scripted invalidations, a guest's
// unmaps (driven paths), a domain's own host activity (migration, THP collapse, dirty
// logging), or reclaim, which starts only when free memory falls below host.free_target.
// Reclaim is ruled out only when every domain's memory, page tables counted generously, fits
// with that margin: a 4 KiB table maps 2 MiB (1/512 a level); 1/64 covers eight such tables
// (levels and stages) and 1 MiB a domain their tops (chosen bounds, not measured).
bool can_invalidate(const System& sys) {
  const Scenario& sc = sys.sc;
  if (!sc.invalidations.empty()) return true;
  for (const auto& dev : sys.devices)
    for (const Path& p : dev->paths())
      if (p.driven()) return true;
  bool faultable = false;
  uint64_t most_used = sc.host.free_target_bytes;
  for (const auto& d : sys.domains) {
    if (d->moves_pages()) return true;
    faultable = faultable || d->faultable();
    most_used += d->spec().memory_bytes + d->spec().memory_bytes / 64 + (1ULL << 20);
  }
  return faultable && most_used > sc.host.memory_bytes;
}

// Where a translation can be taken away while DMAs run (clamp), the quantum must be clamped.
uint64_t batch_quantum(const Scenario& sc, bool clamp) {
  if (!clamp) return sc.engine.quantum_ns;
  return std::min(sc.engine.quantum_ns, sc.iommu.inv_desc_ns + sc.iommu.inv_wait_ns);
}

struct Parts {
  System& sys;
  SimServices& svc;
  FaultHandling& faults;
  Invalidator* invq;
  const Platform& platform;
  uint64_t quantum_ns;
  std::vector<uint32_t> drivers;  // per domain: guest drivers started (each gets its own IOVA window)
};

// A vCPU thread per path whose buffers the guest maps through the DMA API (models/device/guest_driver.hpp).
void start_guest_drivers(Parts& parts, size_t di, Device* dev) {
  System& sys = parts.sys;
  for (Path& path : dev->paths()) {
    if (!path.driven()) continue;
    const std::string name = "vcpu-dma:" + dev->spec().name + "/" + path.spec().name;
    Path* p = &path;
    const uint32_t index = parts.drivers[di]++;
    parts.svc.spawn(name, [&sys, &parts, di, dev, p, name, index] {
      GuestDriver(*p, dev->domain(), di, parts.svc, *parts.invq, sys.checker.get(), name, index).run();
    });
  }
}

// A domain's set-up thread: pins what its plan names (CPU work on a host core, so domains
// pinning at once share the cores), then starts its host threads, its devices and the
// scripted sources on it, each over the domain's span: ready + warmup + duration.
void set_up_domain(Parts& parts, size_t di) {
  System& sys = parts.sys;
  Domain& dom = *sys.domains[di];
  parts.svc.cpu_work(dom.pin_work_ns(sys.sc.host.zero_bytes_per_s));
  const uint64_t ready = parts.svc.now_ns();
  dom.set_ready_ns(ready);
  const uint64_t start = ready + sys.sc.warmup_ns, end = start + sys.sc.duration_ns;
  DomainRun run{parts.svc, sys.activity, di, ready, end};
  dom.start(run);
  for (size_t i = 0; i < sys.devices.size(); ++i) {
    if (sys.devices[i]->spec().domain_index != di) continue;
    Device* dev = sys.devices[i].get();
    const DeviceWindow w{ready, start, end, parts.quantum_ns};
    bool driven = false;
    for (const Path& p : dev->paths()) driven = driven || p.driven();
    if (driven) dev->set_window(ready, start, end);  // before its guest drivers take arrivals
    parts.svc.start_actor("device:" + dev->spec().name, parts.platform.devices[i],
                          [dev, &parts, w] { run_device(dev, &parts.svc, &parts.faults, w); }, false);
    start_guest_drivers(parts, di, dev);
  }
  for (size_t i = 0; i < sys.sc.invalidations.size(); ++i) {
    const InvalidationSpec* spec = &sys.sc.invalidations[i];
    if (spec->domain_index != di) continue;
    parts.svc.spawn("invalidations:" + spec->name,
                    [&sys, spec, i, ready, end] { sys.activity.source_loop(*spec, i, ActivitySpan{ready, end}); });
  }
}

// Observers sample on the engine's time advances, never with an actor or an event of their
// own: a sleeping actor would make the engine stop at the sample times, and advancing the
// clock in other steps changes the rounding of the activities in progress (a run's figures
// would then depend on the sampling). When the clock moves past k * interval, every model
// has done what it does before that instant and nothing happens until the new time: the
// sample there is exact (up to the device actors' inline run-ahead, sim/observer.hpp).
// The handler cannot be disconnected (SimGrid 3.32 keeps the signal private): it stops when
// *active turns false, which run_engine does after the run.
void start_observers(RunView& view, const std::vector<Observer*>& observers, const std::shared_ptr<bool>& active) {
  std::vector<uint64_t> next(observers.size());
  for (size_t i = 0; i < observers.size(); ++i) {
    observers[i]->begin(view);
    next[i] = observers[i]->interval_ns();
  }
  if (observers.empty()) return;
  sg4::Engine::on_time_advance_cb([&view, observers, next, active](double) mutable {
    if (!*active) return;
    const uint64_t now = SimServices::clock_ns();
    for (size_t i = 0; i < observers.size(); ++i)
      for (; next[i] <= now; next[i] += observers[i]->interval_ns()) observers[i]->sample(view, next[i]);
  });
}

void attach_trace(TraceSink* trace, System& sys, FaultHandling& faults, InvalidationQueue& invq) {
  faults.set_trace(trace);
  invq.set_trace(trace);
  sys.memory.set_trace(trace);
  for (size_t i = 0; i < sys.devices.size(); ++i) {
    sys.devices[i]->trace = trace;
    sys.devices[i]->trace_pid = TraceTrack::kDevicePid0 + static_cast<uint32_t>(i);
  }
}

std::vector<std::string> engine_args(const std::vector<std::string>& simgrid_args) {
  std::vector<std::string> args = {"iopfsim", "--cfg=network/model:CM02", "--cfg=network/crosstraffic:0",
                                   "--cfg=surf/precision:1e-12", "--log=root.thresh:warning"};
  args.insert(args.end(), simgrid_args.begin(), simgrid_args.end());
  return args;
}

}  // namespace

EngineStats run_engine(System& sys, const std::vector<std::string>& simgrid_args,
                       const std::vector<Observer*>& observers, TraceSink* trace) {
  std::vector<std::string> args = engine_args(simgrid_args);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(args.size());
  sg4::Engine e(&argc, argv.data());
  bool deadlock = false;
  sg4::Engine::on_deadlock_cb([&deadlock]() { deadlock = true; });

  const Platform p = build_platform(sys);
  const bool invalidations = can_invalidate(sys);
  const uint64_t quantum = batch_quantum(sys.sc, invalidations && !sys.sc.engine.unsafe_batching);
  SimServices svc(p.cpu, p.swap);
  InvalidationQueue invq(&svc, &sys);
  // The quantum was left unclamped because nothing could invalidate: an invalidation would
  // break the batch rule, so it ends the run as an internal error instead.
  if (!invalidations && !sys.sc.engine.unsafe_batching) invq.refuse_all("the batch quantum was not clamped");
  FaultHandling faults(&svc, sys.sc.iommu, sys.sc.host, &sys.memory, sys.sc.seed, kHostLink);
  sys.memory.attach(&svc, &invq, &sys.iommu, sys.checker.get());
  sys.activity.attach(&svc, &invq, sys.checker.get());
  if (trace) attach_trace(trace, sys, faults, invq);

  svc.start_actor("prq", p.iommu, [&faults] { faults.prq_keeper(); }, true);
  svc.start_actor("inv_queue", p.iommu, [&invq] { invq.queue_loop(); }, true);
  svc.spawn_daemon("kswapd", [&sys] { sys.memory.reclaim_loop(); });
  for (uint32_t c = 0; c < sys.sc.host.cores; ++c)
    svc.spawn_daemon("fault_handler:" + std::to_string(c), [&faults, c] { faults.handler_loop(c); });
  for (size_t i = 0; i < sys.devices.size(); ++i)
    if (invq.add_device(sys.devices[i].get()))
      svc.start_actor("atc_inv:" + sys.devices[i]->spec().name, p.devices[i], [&invq, i] { invq.atc_loop(i); }, true);
  if (sys.sc.engine.inject == Inject::kDeadlock)  // waits for a message nobody sends
    svc.spawn("injected_deadlock", [] { sg4::Mailbox::by_name("nobody")->get<int>(); });
  if (sys.sc.engine.inject == Inject::kActorException)
    svc.spawn("injected_exception", [] { throw std::runtime_error("injected failure"); });
  Parts parts{sys, svc, faults, &invq, p, quantum, std::vector<uint32_t>(sys.domains.size(), 0)};
  for (size_t di = 0; di < sys.domains.size(); ++di)
    svc.spawn("setup:" + sys.domains[di]->spec().name, [&parts, di] { set_up_domain(parts, di); });
  RunView view{sys, faults.stats(), invq.stats()};
  const uint64_t model_histograms = Histogram::live();
  const auto observing = std::make_shared<bool>(true);
  start_observers(view, observers, observing);

  const auto t0 = std::chrono::steady_clock::now();
  e.run();
  const auto t1 = std::chrono::steady_clock::now();
  *observing = false;
  if (!svc.failure().empty()) throw std::runtime_error("simulation failed in actor " + svc.failure());
  if (deadlock) throw std::runtime_error("simulation deadlocked: actors wait on each other with no event pending");

  EngineStats st;
  st.simulated_ns = SimServices::clock_ns();
  for (const auto& d : sys.devices)
    for (const Path& path : d->paths()) st.simulated_ns = std::max(st.simulated_ns, path.last_completion_ns());
  for (Observer* o : observers) o->end(view, st.simulated_ns);
  st.events = svc.events();
  st.wall_s = std::chrono::duration<double>(t1 - t0).count();
  st.quantum_ns = quantum;
  st.prq = faults.stats();
  st.inv = invq.stats();
  st.model_histograms = model_histograms;
  return st;
}

}  // namespace iopf
