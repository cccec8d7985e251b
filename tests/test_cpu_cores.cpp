// sim/cpu_cores.hpp against SimGrid's own CPU model, in one engine: the same jobs (start time,
// work) run on two hosts of the same cores, through CpuCores on one and as plain executions
// on the other, and every job must end at the same ns on both. The loads cross the core
// count both ways, so both of CpuCores' regimes (waits of its own, and executions once the
// cores are shared) and the switch between them are exercised; the test checks that they were.
// Each TEST is its own process under ctest (SimGrid's engine is one per process).
#include <gtest/gtest.h>
#include <simgrid/s4u.hpp>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "sim/alarm.hpp"
#include "sim/cpu_cores.hpp"
#include "sim/sim_services.hpp"
#include "sim_test_engine.hpp"

namespace sg4 = simgrid::s4u;

namespace {

struct Job {
  uint64_t start_ns;
  uint64_t work_ns;
  uint64_t end_cores_ns = 0;  // through CpuCores
  uint64_t end_exec_ns = 0;   // as a SimGrid execution
};

struct Counts {
  uint64_t fast;
  uint64_t shared_starts;
  uint64_t engine_interrupted = 0;  // engine-timed works the cores becoming shared interrupted
};

// A work the engine times (as sim/fault_handling.cpp's handlers do): started by an engine timer
// on a free core and ended by another, with no thread waiting; when no core is free, or the
// cores become shared during it (interrupt), its thread does the work, or the rest of it.
struct EngineJob final : iopf::CpuCores::Alone {
  EngineJob(Job* j, iopf::CpuCores* c)
      : job(j), cpu(c), thread_go(sg4::Semaphore::create(0)), start([this] { begin(); }), finish([this] { end(); }) {}
  void begin() {
    if (!cpu->core_free()) return thread_go->release();  // its thread does all of it
    cpu->start_alone(this, job->work_ns);
    finish.arm(end_ns);
  }
  void end() {
    cpu->end_alone(this);
    job->end_cores_ns = iopf::SimServices::clock_ns();
  }
  void interrupt() override {
    finish.disarm();
    interrupted = true;
    thread_go->release();
  }
  void thread() {  // waits until the engine needs it
    thread_go->acquire();
    if (interrupted) cpu->execute_rest(*this);
    else cpu->work(job->work_ns);
    job->end_cores_ns = iopf::SimServices::clock_ns();
  }
  Job* job;
  iopf::CpuCores* cpu;
  bool interrupted = false;
  sg4::SemaphorePtr thread_go;
  iopf::EngineTimer start, finish;
};

// engine_every: every that many jobs (0: none) runs as an EngineJob instead of a thread's work.
Counts run_both(std::vector<Job>* jobs, int cores, size_t engine_every = 0) {
  iopf::test::SimTestEngine eng;
  auto* zone = sg4::create_full_zone("test");
  sg4::Host* with_cores = zone->create_host("cores", 1e9)->set_core_count(cores)->seal();
  sg4::Host* plain = zone->create_host("plain", 1e9)->set_core_count(cores)->seal();
  zone->seal();
  iopf::CpuCores cpu(with_cores);
  std::vector<std::unique_ptr<EngineJob>> engine_jobs;
  for (size_t i = 0; i < jobs->size(); ++i) {
    Job* j = &(*jobs)[i];
    if (engine_every && i % engine_every == 0) {
      EngineJob* e = engine_jobs.emplace_back(std::make_unique<EngineJob>(j, &cpu)).get();
      e->start.arm(j->start_ns);
      sg4::Actor::create("e" + std::to_string(i), with_cores, [e] { e->thread(); })->daemonize();
    } else {
      sg4::Actor::create("c" + std::to_string(i), with_cores, [j, &cpu] {
        sg4::this_actor::sleep_for(static_cast<double>(j->start_ns) * 1e-9);
        cpu.work(j->work_ns);
        j->end_cores_ns = iopf::SimServices::clock_ns();
      });
    }
    sg4::Actor::create("p" + std::to_string(i), plain, [j] {
      sg4::this_actor::sleep_for(static_cast<double>(j->start_ns) * 1e-9);
      sg4::this_actor::execute(static_cast<double>(j->work_ns));
      j->end_exec_ns = iopf::SimServices::clock_ns();
    });
  }
  eng.engine().run();
  Counts c{cpu.fast_works(), cpu.shared_starts()};
  for (const auto& e : engine_jobs) c.engine_interrupted += e->interrupted;
  return c;
}

TEST(CpuCores, SharingStartsWhenOneMoreThreadThanCoresComputes) {
  // Two cores: A and B alone until 500, then C shares (2/3 of a core each), then C alone.
  std::vector<Job> jobs{{0, 1000}, {0, 1000}, {500, 1000}, {2000, 100}};
  const Counts c = run_both(&jobs, 2);
  EXPECT_EQ(jobs[0].end_cores_ns, 1250u);
  EXPECT_EQ(jobs[1].end_cores_ns, 1250u);
  EXPECT_EQ(jobs[2].end_cores_ns, 1750u);
  EXPECT_EQ(jobs[3].end_cores_ns, 2100u);  // alone again: a wait of its own
  for (const Job& j : jobs) EXPECT_EQ(j.end_cores_ns, j.end_exec_ns);
  EXPECT_EQ(c.shared_starts, 1u);
  EXPECT_EQ(c.fast, 1u);  // D; A and B were moved to executions at 500
}

TEST(CpuCores, WorkStartingAsAnotherEndsDoesNotWakeIt) {
  // Each job starts at the ns the one before ends, on one core: the newcomer finds the core's
  // wait timing out at that very ns, and must leave it be (waking a wait that is timing out
  // is the crash this guards against).
  std::vector<Job> jobs;
  for (uint64_t i = 0; i < 20; ++i) jobs.push_back(Job{500 * i, 500});
  jobs.push_back(Job{2'000, 300});  // and one that does share the core, from 2000 to 2500
  run_both(&jobs, 1);
  for (size_t i = 0; i < jobs.size(); ++i) ASSERT_EQ(jobs[i].end_cores_ns, jobs[i].end_exec_ns) << "job " << i;
}

// 400 jobs: mostly fewer threads than cores, with bursts (eight jobs at once: the cores become
// shared) and quiet gaps.
std::vector<Job> random_loads(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Job> jobs;
  uint64_t t = 0;
  for (int i = 0; i < 400; ++i) {
    t += (i % 40 == 0) ? 20'000 : (i % 40 < 8) ? 0 : rng() % 1'500;
    jobs.push_back(Job{t, 200 + rng() % 3'000});
  }
  return jobs;
}

void expect_same_ends(const std::vector<Job>& jobs) {
  for (size_t i = 0; i < jobs.size(); ++i)
    ASSERT_EQ(jobs[i].end_cores_ns, jobs[i].end_exec_ns) << "job " << i << " start " << jobs[i].start_ns;
}

TEST(CpuCores, RandomLoadsEndWhenSimGridsCpuModelEndsThem) {
  std::vector<Job> jobs = random_loads(7);
  const Counts c = run_both(&jobs, 4);
  expect_same_ends(jobs);
  EXPECT_GT(c.fast, 100u);
  EXPECT_GE(c.shared_starts, 10u);
}

TEST(CpuCores, EngineTimedWorksEndWhenSimGridsCpuModelEndsThem) {
  // The same loads with every third job timed by the engine: those that start alone and are
  // interrupted when the cores become shared go on in their threads, and every job still ends
  // when SimGrid's CPU model ends the same job as an execution.
  std::vector<Job> jobs = random_loads(11);
  const Counts c = run_both(&jobs, 4, 3);
  expect_same_ends(jobs);
  EXPECT_GT(c.fast, 100u);
  EXPECT_GE(c.shared_starts, 10u);
  EXPECT_GE(c.engine_interrupted, 5u);
}

}  // namespace
