// models/host/host_memory: a fault in one step (fault_in, which may wait) and in two
// (start_fault, then finish_fault after the CPU work: sim/fault_handling.cpp's handlers on the
// engine), on the real models without SimGrid. The two must resolve the same pages at the same
// cost, drawing the domain's random costs in the same order, and start_fault must refuse, having
// done nothing, a fault that would wake kswapd (which only a thread may do).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/scenario.hpp"
#include "sim/system.hpp"

using nlohmann::json;
using namespace iopf;

namespace {

// The host's services as a test sees them: no clock to speak of, CPU work recorded, and no
// waiting (a wait would need a thread: the test fails if one is asked for).
class Services final : public HostServices {
 public:
  struct CountingWakeup final : Wakeup {
    explicit CountingWakeup(int* n) : notified(n) {}
    void notify() override { ++*notified; }
    void wait() override { throw std::logic_error("a wait in a test without threads"); }
    int* notified;
  };
  struct NoCondition final : Condition {
    void wait() override { throw std::logic_error("a wait in a test without threads"); }
    void notify_all() override {}
  };
  uint64_t now_ns() const override { return 0; }
  void sleep_until(uint64_t) override { throw std::logic_error("a sleep in a test without threads"); }
  void cpu_work(uint64_t ns) override { work_ns.push_back(ns); }
  void swap_read(uint64_t) override {}
  void swap_write(uint64_t) override {}
  std::unique_ptr<Wakeup> make_wakeup(const std::string&) override { return std::make_unique<CountingWakeup>(&kswapd_woken); }
  std::unique_ptr<Condition> make_condition() override { return std::make_unique<NoCondition>(); }
  void spawn_daemon(const std::string&, std::function<void()>) override {}
  void spawn(const std::string&, std::function<void()>) override {}

  std::vector<uint64_t> work_ns;  // each cpu_work, in order
  int kswapd_woken = 0;
};

// A 32 MiB faultable guest of 4 KiB pages, none resident, exponential fault costs (so the
// order of the random draws shows), on a host of host_mib MiB that keeps 8 MiB free.
Scenario scenario(int host_mib) {
  const json s = {
      {"schema", "iopfsim.scenario/1"},
      {"name", "host-memory"},
      {"host", {{"memory", std::to_string(host_mib) + "MiB"}, {"free_target", "8MiB"}}},
      {"domains",
       {{{"name", "vm"}, {"kind", "shared_tdp"}, {"policy", "fault_all"}, {"memory", "32MiB"}, {"page_size", "4KiB"},
         {"fault_cost", {{"dist", "exponential"}, {"mean", "2us"}}}}}},
      {"devices",
       {{{"name", "acc"}, {"domain", "vm"}, {"ats", true}, {"pri", true},
         {"paths", {{{"name", "q"}, {"fault_tolerant", true}, {"workload", {{"region_size", "1MiB"}, {"outstanding", 1}}}}}}}}}};
  return parse_scenario(s, "test.json");
}

struct Host {
  explicit Host(int host_mib) : sys(scenario(host_mib)) { sys.memory.attach(&svc, nullptr, &sys.iommu, nullptr); }
  Domain& dom() { return *sys.domains[0]; }
  System sys;
  Services svc;
};

uint64_t page(int k) { return static_cast<uint64_t>(k) * 4096 + 123; }

}  // namespace

TEST(HostMemoryFault, TwoStepsResolveWhatFaultInResolvesAtTheSameCost) {
  Host one(64), two(64);
  for (int k = 0; k < 300; ++k) {
    bool ok = false;
    const FaultKind kind = one.sys.memory.fault_in(one.dom(), page(k), k % 3 == 0, &ok);
    ASSERT_TRUE(ok);
    ASSERT_EQ(kind, FaultKind::kMinor);
    HostMemory::PageFault f;
    ASSERT_TRUE(two.sys.memory.start_fault(two.dom(), page(k), k % 3 == 0, &f)) << "page " << k;
    ASSERT_EQ(f.kind, kind);
    ASSERT_EQ(f.cpu_ns, one.svc.work_ns.back()) << "page " << k;  // the same draw, in the same order
    EXPECT_EQ(two.dom().classify(page(k), false), FaultKind::kMinor);  // not mapped before its work
    two.sys.memory.finish_fault(two.dom(), page(k), k % 3 == 0, f);
    ASSERT_EQ(two.dom().classify(page(k), k % 3 == 0), FaultKind::kNone);
    ASSERT_EQ(two.sys.memory.used_bytes(), one.sys.memory.used_bytes());
  }
  EXPECT_EQ(two.sys.memory.fault_cpu_ns(), one.sys.memory.fault_cpu_ns());
  EXPECT_GT(one.sys.memory.fault_cpu_ns(), 0u);
  // A page already present: nothing to do, no cost drawn.
  HostMemory::PageFault f;
  ASSERT_TRUE(two.sys.memory.start_fault(two.dom(), page(7), false, &f));
  EXPECT_EQ(f.kind, FaultKind::kNone);
  EXPECT_EQ(f.cpu_ns, 0u);
}

TEST(HostMemoryFault, StartFaultRefusesAFaultThatWouldWakeKswapd) {
  // 24 MiB of host memory keeping 8 free: faults run out of room above the free target after
  // 16 MiB. The two-step host goes until start_fault refuses; the one-step host faults the same
  // pages but the refused one, which its fault_in then takes: it must be the fault that wakes
  // kswapd, and cost what the next draw costs (the refusal drew nothing).
  Host one(24), two(24);
  int k = 0;
  for (;; ++k) {
    HostMemory::PageFault f;
    const uint64_t used = two.sys.memory.used_bytes();
    if (!two.sys.memory.start_fault(two.dom(), page(k), false, &f)) {
      EXPECT_EQ(two.sys.memory.used_bytes(), used);  // nothing taken
      EXPECT_EQ(two.dom().classify(page(k), false), FaultKind::kMinor);  // nothing mapped
      EXPECT_LT(two.sys.memory.free_bytes() - 4096, 8u << 20);  // it would have gone below the target
      break;
    }
    two.sys.memory.finish_fault(two.dom(), page(k), false, f);
    bool ok = false;
    one.sys.memory.fault_in(one.dom(), page(k), false, &ok);
    ASSERT_LT(k, 10'000) << "start_fault never refused";
  }
  EXPECT_GT(k, 1000);  // about 16 MiB of 4 KiB pages went through first
  EXPECT_EQ(one.svc.kswapd_woken, 0);
  bool ok = false;
  EXPECT_EQ(two.sys.memory.fault_in(two.dom(), page(k), false, &ok), FaultKind::kMinor);
  EXPECT_TRUE(ok);
  EXPECT_EQ(two.svc.kswapd_woken, 1);  // what start_fault left to a thread
  one.sys.memory.fault_in(one.dom(), page(k), false, &ok);
  EXPECT_EQ(two.svc.work_ns.back(), one.svc.work_ns.back());
}
