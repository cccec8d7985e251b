// sim/alarm.hpp: an EngineWakeup brought forward while its owner listens runs at the new time
// and not before (and not at the old one), a later time changes nothing, one that is past runs
// it in this instant, a wake-up armed without listening cannot be brought forward, and an
// owner destroyed while armed leaves no timer to run the engine on. Each TEST is its own
// process under ctest.
#include <gtest/gtest.h>
#include <simgrid/s4u.hpp>

#include <cstdint>
#include <memory>
#include <vector>

#include "sim/alarm.hpp"
#include "sim/sim_services.hpp"
#include "sim_test_engine.hpp"

namespace sg4 = simgrid::s4u;

namespace {

struct Engine {
  iopf::test::SimTestEngine sim;
  sg4::Engine& e = sim.engine();
  sg4::Host* host;
  Engine() {
    auto* zone = sg4::create_full_zone("test");
    host = zone->create_host("h", 1e9)->seal();
    zone->seal();
  }
};

void sleep_ns(uint64_t ns) { sg4::this_actor::sleep_for(static_cast<double>(ns) * 1e-9); }

TEST(EngineWakeup, BroughtForwardItRunsThenAndNotBefore) {
  Engine eng;
  std::vector<uint64_t> ran;
  int step = 0;
  iopf::EngineWakeup wake([&] {
    ran.push_back(iopf::SimServices::clock_ns());
    if (++step == 1) wake.arm(iopf::EngineWakeup::kNever, true);  // 500: wait with no time of its own
    else if (step == 2) wake.arm(3'000, false);                    // 900: not listening
    else if (step == 3) wake.arm(5'000, true);                     // 3000
  });
  wake.arm(1'000, true);
  sg4::Actor::create("other", eng.host, [&] {
    sleep_ns(200);
    wake.ring_by(500);  // earlier than 1000: runs at 500
    wake.ring_by(800);  // later than 500: nothing
    sleep_ns(500);      // 700: the owner waits with no time of its own
    wake.ring_by(900);
    sleep_ns(1'300);       // 2000: armed for 3000, not listening
    wake.ring_by(2'000);   // nothing
    sleep_ns(2'000);       // 4000: listening, armed for 5000
    wake.ring_by(1'000);   // past: runs now
    sleep_ns(10'000);
  });
  eng.e.run();
  EXPECT_EQ(ran, (std::vector<uint64_t>{500, 900, 3'000, 4'000}));
}

TEST(EngineWakeup, AnOwnerGoneLeavesNoTimer) {
  Engine eng;
  bool ran = false;
  auto wake = std::make_unique<iopf::EngineWakeup>([&] { ran = true; });
  wake->arm(1'000'000, true);
  sg4::Actor::create("main", eng.host, [&] {
    sleep_ns(100);
    wake.reset();
  });
  eng.e.run();
  EXPECT_EQ(iopf::SimServices::clock_ns(), 100u);  // the run ended with its last thread
  EXPECT_FALSE(ran);
}

}  // namespace
