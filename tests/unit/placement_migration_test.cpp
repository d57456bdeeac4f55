// MigrationPolicy::Prohibited: once a ULT has run on a worker it stays there
// across yields, preemptions (even with the test hook that moves preempted
// ULTs), sleeps and wake-ups from other workers, while the other workers are
// idle and stealing.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using quanta::Config;
using quanta::JoinHandle;
using quanta::MigrationPolicy;
using quanta::Runtime;
using quanta::SchedulerKind;
using quanta::ThreadBuilder;

const ThreadBuilder kStay = ThreadBuilder().migration(MigrationPolicy::Prohibited);

std::string name_of(SchedulerKind k) {
  return k == SchedulerKind::RoundRobin ? "RoundRobin" : "WorkStealing";
}

class Prohibited : public ::testing::TestWithParam<SchedulerKind> {
 protected:
  Config cfg(unsigned workers, bool preempt = false) {
    Config c = quanta::test::config(workers, preempt);
    c.scheduler = GetParam();
    return c;
  }
};

// Counts the times the calling ULT is seen on another worker than `first`.
struct Stay {
  int first = -1;
  long moves = 0;
  long checks = 0;
  void look() {
    const int w = quanta::this_thread::worker_index();
    if (first < 0) first = w;
    if (w != first) ++moves;
    ++checks;
  }
};

TEST_P(Prohibited, StaysOverYieldsWhileOthersSteal) {
  Runtime rt(cfg(4));
  // Small bursts of work now and then keep the other workers waking up and
  // looking for work to steal, and mostly idle.
  std::atomic<bool> stop{false};
  auto noise = rt.spawn([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      std::vector<JoinHandle<void>> hs;
      for (int i = 0; i < 4; ++i) hs.push_back(rt.spawn([] { quanta::test::burn(2000); }));
      for (auto& h : hs) h.join();
      quanta::this_thread::sleep_for(50us);
    }
  });
  // Several on one worker, so that its queue holds some while the others
  // are idle: what an idle worker steals.
  std::vector<JoinHandle<Stay>> hs;
  rt.spawn([&] {
      for (int i = 0; i < 12; ++i) {
        hs.push_back(kStay.spawn([] {
          Stay s;
          for (int k = 0; k < 3000; ++k) {
            s.look();
            quanta::test::burn(200);
            quanta::this_thread::yield();
          }
          return s;
        }));
      }
    }).join();
  for (auto& h : hs) {
    Stay s = h.join();
    EXPECT_EQ(s.checks, 3000);
    EXPECT_EQ(s.moves, 0) << "a Prohibited ULT left worker " << s.first;
  }
  stop = true;
  noise.join();
}

TEST_P(Prohibited, StaysOverPreemptionsEvenWithTheMigrationHook) {
  const unsigned ncpu = quanta::topology().pu_count();
  Config c = cfg(std::min(2u, ncpu), true);
  c.time_slice = 100us;
  Runtime rt(c);
  rt.impl().preempt_migrate_for_testing = true;  // preempted ULTs go to the next worker
  std::atomic<bool> stop{false};
  struct Result {
    Stay stay;
    std::uint64_t preempted = 0;
  };
  std::vector<JoinHandle<Result>> hs;
  std::vector<JoinHandle<std::set<int>>> free_hs;
  for (int i = 0; i < 4; ++i) {
    hs.push_back(kStay.spawn(rt, [&] {
      Result r;
      while (!stop.load(std::memory_order_relaxed)) {
        quanta::test::burn(2000);
        r.stay.look();
      }
      r.preempted = quanta::this_thread::preemption_counters().taken;
      return r;
    }));
    free_hs.push_back(rt.spawn([&] {
      std::set<int> ws;
      while (!stop.load(std::memory_order_relaxed)) {
        quanta::test::burn(2000);
        ws.insert(quanta::this_thread::worker_index());
      }
      return ws;
    }));
  }
  EXPECT_TRUE(quanta::test::eventually(
      [&] { return quanta::preemption_stats(rt).total.taken > 200; }));
  stop = true;
  // On a loaded machine a ULT queued behind a spinner that is not preempted
  // (its thread gets too little CPU) may not have run: only totals count.
  std::uint64_t preempted = 0;
  long checks = 0;
  for (auto& h : hs) {
    Result r = h.join();
    EXPECT_EQ(r.stay.moves, 0) << "a preempted Prohibited ULT left worker " << r.stay.first;
    preempted += r.preempted;
    checks += r.stay.checks;
  }
  EXPECT_GT(checks, 0);
  std::size_t moved = 0;
  for (auto& h : free_hs) moved += h.join().size() > 1;
  std::printf("Prohibited ULTs preempted %llu times; free ULTs that moved: %zu of %zu\n",
              static_cast<unsigned long long>(preempted), moved, free_hs.size());
  EXPECT_GT(preempted, 0u) << "no Prohibited ULT was preempted: the test did not test anything";
  if (rt.worker_count() > 1) {
    EXPECT_GT(moved, 0u) << "the migration hook moved nobody";
  }
}

TEST_P(Prohibited, StaysOverSleepsAndWakesFromOtherWorkers) {
  Runtime rt(cfg(4));
  std::vector<JoinHandle<Stay>> hs;
  for (int i = 0; i < 4; ++i) {
    hs.push_back(kStay.spawn(rt, [i] {
      Stay s;
      for (int k = 0; k < 100; ++k) {
        s.look();
        // Joining a ULT pinned to another worker: the wake comes from there.
        const int other = (s.first + 1 + k % 3) % 4;
        ThreadBuilder()
            .cpu_affinity({quanta::test::workers_of(*quanta::Runtime::current())
                               [static_cast<std::size_t>(other)]->cpu})
            .spawn([] { quanta::test::burn(1000); })
            .join();
        s.look();
        if (k % 10 == i) quanta::this_thread::sleep_for(100us);
        s.look();
      }
      return s;
    }));
  }
  for (auto& h : hs) {
    Stay s = h.join();
    EXPECT_EQ(s.checks, 300);
    EXPECT_EQ(s.moves, 0) << "a Prohibited ULT left worker " << s.first;
  }
}

TEST_P(Prohibited, MayStartAnywhereButStaysWhereItStarted) {
  Runtime rt(cfg(2));
  std::set<int> starts;
  for (int i = 0; i < 40; ++i) {
    Stay s = kStay.spawn(rt, [] {
                    Stay st;
                    for (int k = 0; k < 50; ++k) {
                      st.look();
                      quanta::this_thread::yield();
                    }
                    return st;
                  })
                 .join();
    EXPECT_EQ(s.moves, 0);
    starts.insert(s.first);
  }
  EXPECT_GE(starts.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Schedulers, Prohibited,
                         ::testing::Values(SchedulerKind::RoundRobin, SchedulerKind::WorkStealing),
                         [](const auto& info) { return name_of(info.param); });

}  // namespace
