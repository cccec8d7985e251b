// The SimGrid engine around the inline models.
//
// Platform: host "cpu" (host.cores cores at 1 Gflop/s, so one flop is one ns of work),
// host "iommu", one host per device; a PCIe link per device (latency, bandwidth) to the
// IOMMU and a root-complex link from the IOMMU to the CPU.
//
// Actors: one per DMA path (on its device's host), the page request queue (on the IOMMU)
// and one fault handler per CPU core. The PRQ and the handlers are daemons: the run ends
// when every path has issued its last DMA and every page request it made is answered.
//
// The batch rule (architecture.md): a path actor runs DMAs inline, without SimGrid, for
// every DMA due in [now, now + quantum), then sleeps to the end of that window or to its
// next due DMA, whichever is later. It syncs earlier when a DMA faults: it sleeps to the
// time the fault was detected and only then sends the page request. So a path never runs
// more than one quantum ahead of SimGrid time. Where an invalidation can take a translation
// away, the quantum is clamped to the shortest time an invalidation can take to complete;
// an invalidation started at or after `now` then completes at or after the window's end,
// so no DMA in the window can use a translation after its invalidation completed.
#include "sim/engine.hpp"

#include <simgrid/s4u.hpp>

#include <chrono>
#include <cmath>
#include <stdexcept>

namespace sg4 = simgrid::s4u;

namespace iopf {
namespace {

constexpr uint64_t kPageRequestBytes = 16;  // a PRI Page Request Message is a 4-DW header TLP
constexpr uint64_t kPrgResponseBytes = 16;  // PRG Response Message, likewise
constexpr uint64_t kHandoffBytes = 64;      // PRQ descriptor handed to the host (one cache line)

struct PageRequest {
  Path* path;
  uint64_t va;
};

uint64_t now_ns() { return static_cast<uint64_t>(std::llround(sg4::Engine::get_clock() * 1e9)); }

struct Run {
  System& sys;
  uint64_t end_ns;
  uint64_t quantum_ns;
  uint64_t events = 0;
  sg4::Mailbox* prq = nullptr;
  sg4::Mailbox* faults = nullptr;

  void sleep_until(uint64_t t) {
    const uint64_t n = now_ns();
    if (t > n) {
      sg4::this_actor::sleep_for(static_cast<double>(t - n) * 1e-9);
      ++events;
    }
  }

  void path_actor(Path* p, sg4::Mailbox* resp) {
    Device& dev = p->device();
    for (;;) {
      const uint64_t now = now_ns();
      const Path::Stop stop = p->run(now + quantum_ns, end_ns);
      if (stop == Path::Stop::kDone) return;
      if (stop == Path::Stop::kWindowEnd) {
        const uint64_t next = p->next_due_ns();
        sleep_until(std::max(now + quantum_ns, std::min(next, end_ns)));
        continue;
      }
      bool resolved = false;
      while (!resolved) {  // a retry can fault again if the page went away meanwhile
        sleep_until(p->pending().detected_ns);
        const uint64_t sent = now_ns();
        p->count_page_request();
        ++dev.pri_requests;
        prq->put_init(new PageRequest{p, p->pending().va}, kPageRequestBytes)->detach();
        ++events;
        delete resp->get<PageRequest>();  // the PRG response (Success)
        ++events;
        dev.fault_latency_ns.record(now_ns() - sent);
        resolved = p->resume(now_ns());
      }
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

  Run run{sys, sc.duration_ns, sc.engine.quantum_ns};
  run.prq = sg4::Mailbox::by_name("prq");
  run.faults = sg4::Mailbox::by_name("faults");

  sg4::Actor::create("prq", iommu, [&run]() { run.prq_actor(); })->daemonize();
  for (uint32_t c = 0; c < sc.host.cores; ++c)
    sg4::Actor::create("fault_handler:" + std::to_string(c), cpu, [&run]() { run.fault_handler_actor(); })->daemonize();
  for (size_t i = 0; i < sys.devices.size(); ++i) {
    for (Path& p : sys.devices[i]->paths()) {
      Path* pp = &p;
      sg4::Mailbox* resp = sg4::Mailbox::by_name(Run::mailbox_name(pp));
      sg4::Actor::create("path:" + sys.devices[i]->spec().name + "/" + p.spec().name, dev_hosts[i],
                         [&run, pp, resp]() { run.path_actor(pp, resp); });
    }
  }

  const auto t0 = std::chrono::steady_clock::now();
  e.run();
  const auto t1 = std::chrono::steady_clock::now();
  if (deadlock) throw std::runtime_error("simulation deadlocked: actors wait on each other with no event pending");

  EngineStats st;
  st.simulated_ns = now_ns();
  st.events = run.events;
  st.wall_s = std::chrono::duration<double>(t1 - t0).count();
  st.quantum_ns = run.quantum_ns;
  return st;
}

}  // namespace iopf
