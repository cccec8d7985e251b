// sim/alarm.hpp: a sleeping thread's wake-up brought forward rings at the new time and not
// before (no wake-up in between), a later time changes nothing, and a thread killed while
// asleep leaves no timer behind to run the engine on. Each TEST is its own process under ctest.
#include <gtest/gtest.h>
#include <simgrid/s4u.hpp>

#include <cstdint>
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

TEST(Alarm, BroughtForwardItRingsThenAndNotBefore) {
  Engine eng;
  iopf::Alarm alarm;
  std::vector<uint64_t> woke;
  sg4::Actor::create("owner", eng.host, [&] {
    alarm.sleep_until(1'000);
    woke.push_back(iopf::SimServices::clock_ns());
    alarm.sleep_until(iopf::Alarm::kNever);
    woke.push_back(iopf::SimServices::clock_ns());
    alarm.sleep_until(3'000);
    woke.push_back(iopf::SimServices::clock_ns());
  });
  sg4::Actor::create("other", eng.host, [&] {
    sleep_ns(200);
    alarm.ring_by(500);  // earlier than 1000: rings at 500
    alarm.ring_by(800);  // later than 500: nothing
    sleep_ns(500);       // 700: the owner sleeps with no time of its own
    alarm.ring_by(900);
    sleep_ns(1'300);  // 2000
    alarm.ring_by(2'000);  // now: at once
  });
  eng.e.run();
  EXPECT_EQ(woke, (std::vector<uint64_t>{500, 900, 2'000}));
}

TEST(Alarm, AThreadKilledAsleepLeavesNoTimer) {
  Engine eng;
  iopf::Alarm alarm;
  sg4::Actor::create("sleeper", eng.host, [&] { alarm.sleep_until(1'000'000); })->daemonize();
  sg4::Actor::create("main", eng.host, [] { sleep_ns(100); });
  eng.e.run();
  EXPECT_EQ(iopf::SimServices::clock_ns(), 100u);  // the run ended with its last thread
  EXPECT_FALSE(alarm.sleeping());
}

}  // namespace
