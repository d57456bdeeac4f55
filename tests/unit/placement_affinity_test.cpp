// ThreadBuilder::cpu_affinity: a ULT runs only on the workers whose CPU is in
// its set, with both schedulers, across yields, preemptions and wake-ups from
// other workers; a set without any worker's CPU is a ConfigError.
#include <gtest/gtest.h>

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using quanta::Config;
using quanta::JoinHandle;
using quanta::Runtime;
using quanta::SchedulerKind;
using quanta::ThreadBuilder;

// The CPU each worker of rt runs on.
std::vector<int> worker_cpus(Runtime& rt) {
  std::vector<int> out;
  for (auto* w : quanta::test::workers_of(rt)) out.push_back(w->cpu);
  return out;
}

std::vector<int> distinct(std::vector<int> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// Where a ULT was seen running: the workers outside its set, and (pinned
// workers) CPUs outside its set.
struct Seen {
  long checks = 0;
  long wrong_worker = 0;
  long wrong_cpu = 0;
  std::set<int> workers;
};

// Called on the ULT: records where it runs now. The worker index is one
// thread-local read, so it names the worker the ULT was on at that moment.
void look(Seen& s, const std::vector<int>& cpus, int allowed_cpu) {
  const int w = quanta::this_thread::worker_index();
  ++s.checks;
  s.workers.insert(w);
  if (w < 0 || cpus[static_cast<std::size_t>(w)] != allowed_cpu) ++s.wrong_worker;
  quanta::NoPreempt on_this_cpu;  // sched_getcpu and the check on one thread
  if (sched_getcpu() != allowed_cpu) ++s.wrong_cpu;
}

struct Params {
  SchedulerKind scheduler;
  unsigned workers;
};

class AffinityYield : public ::testing::TestWithParam<Params> {};

TEST_P(AffinityYield, UltsYieldOnlyOnWorkersOfTheirCpus) {
  Config cfg = quanta::test::config(GetParam().workers);
  cfg.scheduler = GetParam().scheduler;
  Runtime rt(cfg);
  const std::vector<int> cpus = worker_cpus(rt);
  ASSERT_EQ(cpus.size(), GetParam().workers);
  std::atomic<bool> stop{false};

  // Unrestricted ULTs that spawn, yield and finish all the time, so that
  // workers steal and the queues move.
  std::vector<JoinHandle<void>> noise;
  for (int i = 0; i < 4; ++i) {
    noise.push_back(rt.spawn([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        rt.spawn([] { quanta::this_thread::yield(); }).join();
        quanta::this_thread::yield();
      }
    }));
  }

  std::vector<JoinHandle<Seen>> hs;
  std::vector<int> want;
  for (int cpu : distinct(cpus)) {
    for (int i = 0; i < 6; ++i) {
      auto body = [&cpus, cpu] {
        Seen s;
        for (int k = 0; k < 2000; ++k) {
          look(s, cpus, cpu);
          quanta::this_thread::yield();
        }
        return s;
      };
      // From the kernel thread, and from a ULT on whatever worker it runs.
      if (i % 2 == 0) {
        hs.push_back(ThreadBuilder().cpu_affinity({cpu}).spawn(rt, body));
      } else {
        hs.push_back(rt.spawn([body, cpu] {
                         return ThreadBuilder().cpu_affinity({cpu}).spawn(body);
                       }).join());
      }
      want.push_back(cpu);
    }
  }
  // From a ULT on one of the allowed workers, in a burst: the children are
  // queued where thieves look (the work-stealing deque).
  std::vector<JoinHandle<std::vector<Seen>>> bursts;
  for (int cpu : distinct(cpus)) {
    bursts.push_back(ThreadBuilder().cpu_affinity({cpu}).spawn(rt, [&cpus, cpu] {
      std::vector<JoinHandle<Seen>> kids;
      for (int i = 0; i < 12; ++i) {
        kids.push_back(ThreadBuilder().cpu_affinity({cpu}).spawn([&cpus, cpu] {
          Seen s;
          for (int k = 0; k < 2000; ++k) {
            look(s, cpus, cpu);
            quanta::this_thread::yield();
          }
          return s;
        }));
      }
      std::vector<Seen> out;
      for (auto& h : kids) out.push_back(h.join());
      return out;
    }));
  }
  for (auto& b : bursts) {
    for (const Seen& s : b.join()) {
      EXPECT_EQ(s.checks, 2000);
      EXPECT_EQ(s.wrong_worker, 0) << "a ULT spawned in a burst ran outside its affinity";
      EXPECT_EQ(s.wrong_cpu, 0);
    }
  }
  for (std::size_t i = 0; i < hs.size(); ++i) {
    Seen s = hs[i].join();
    EXPECT_EQ(s.checks, 2000);
    EXPECT_EQ(s.wrong_worker, 0) << "a ULT with cpu_affinity({" << want[i]
                                 << "}) ran on a worker of another CPU";
    EXPECT_EQ(s.wrong_cpu, 0) << "a ULT with cpu_affinity({" << want[i]
                              << "}) ran on another CPU";
  }
  stop = true;
  for (auto& h : noise) h.join();
}

INSTANTIATE_TEST_SUITE_P(
    Schedulers, AffinityYield,
    ::testing::Values(Params{SchedulerKind::RoundRobin, 2}, Params{SchedulerKind::WorkStealing, 2},
                      Params{SchedulerKind::RoundRobin, 4},
                      Params{SchedulerKind::WorkStealing, 4}),
    [](const auto& info) {
      return std::string(info.param.scheduler == SchedulerKind::RoundRobin ? "RoundRobin"
                                                                           : "WorkStealing") +
             std::to_string(info.param.workers) + "Workers";
    });

// More workers than CPUs: several workers share a CPU, and a ULT may move
// among them but never to a worker of another CPU.
TEST(Affinity, MoreWorkersThanCpusAreDealtRoundTheCpus) {
  Runtime rt(quanta::test::work_stealing(5));
  const std::vector<int> cpus = worker_cpus(rt);
  const std::vector<int> all = distinct(cpus);
  for (std::size_t i = 0; i < cpus.size(); ++i)
    EXPECT_EQ(cpus[i], all[i % all.size()]) << "worker " << i;
}

class AffinityPreempt : public ::testing::TestWithParam<SchedulerKind> {};

// Spinning ULTs preempted every 100 us, with the test hook that resumes a
// preempted ULT on the next worker: the restricted ones must stay put.
TEST_P(AffinityPreempt, PreemptedSpinnersStayOnWorkersOfTheirCpus) {
  // One worker per CPU: two workers sharing a CPU never run a full slice,
  // so the monitor would not preempt them.
  const unsigned ncpu = static_cast<unsigned>(quanta::topology().pu_count());
  Config cfg = quanta::test::preemptive(std::min(2u, ncpu), 100us);
  cfg.scheduler = GetParam();
  Runtime rt(cfg);
  rt.impl().preempt_migrate_for_testing = true;
  const std::vector<int> cpus = worker_cpus(rt);
  std::atomic<bool> stop{false};

  struct Result {
    Seen seen;
    std::uint64_t preempted = 0;
  };
  std::vector<JoinHandle<Result>> hs;
  std::vector<JoinHandle<std::set<int>>> free_hs;
  for (int cpu : distinct(cpus)) {
    for (int i = 0; i < 3; ++i) {
      hs.push_back(ThreadBuilder().cpu_affinity({cpu}).spawn(rt, [&, cpu] {
        Result r;
        while (!stop.load(std::memory_order_relaxed)) {
          quanta::test::burn(2000);
          look(r.seen, cpus, cpu);
        }
        r.preempted = quanta::this_thread::preemption_counters().taken;
        return r;
      }));
    }
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
  // On a loaded machine a worker whose thread gets less than most of a CPU
  // is not preempted (preemption.md), so a ULT queued behind its spinner may
  // not have run at all: only the totals must show progress.
  std::uint64_t preempted = 0;
  long checks = 0;
  for (auto& h : hs) {
    Result r = h.join();
    EXPECT_EQ(r.seen.wrong_worker, 0) << "a preempted ULT resumed outside its affinity";
    EXPECT_EQ(r.seen.wrong_cpu, 0);
    preempted += r.preempted;
    checks += r.seen.checks;
  }
  EXPECT_GT(checks, 0);
  std::size_t moved = 0;
  for (auto& h : free_hs) moved += h.join().size() > 1;
  std::printf("restricted ULTs preempted %llu times; unrestricted ULTs that moved: %zu of %zu\n",
              static_cast<unsigned long long>(preempted), moved, free_hs.size());
  EXPECT_GT(preempted, 0u) << "no restricted ULT was preempted: the test did not test anything";
  if (cpus.size() > 1) {
    EXPECT_GT(moved, 0u) << "the migration hook moved nobody";
  }
}

INSTANTIATE_TEST_SUITE_P(Schedulers, AffinityPreempt,
                         ::testing::Values(SchedulerKind::RoundRobin, SchedulerKind::WorkStealing),
                         [](const auto& info) {
                           return info.param == SchedulerKind::RoundRobin ? "RoundRobin"
                                                                          : "WorkStealing";
                         });

class AffinityWake : public ::testing::TestWithParam<SchedulerKind> {};

// A restricted ULT parked in join() is woken by the finishing ULT on a worker
// it may not run on: it must go back to its own.
TEST_P(AffinityWake, WakeFromAnotherCpusWorkerGoesBack) {
  Config cfg = quanta::test::config(2);
  cfg.scheduler = GetParam();
  Runtime rt(cfg);
  const std::vector<int> cpus = worker_cpus(rt);
  if (cpus[0] == cpus[1]) GTEST_SKIP() << "both workers share CPU " << cpus[0];
  Seen s = ThreadBuilder()
               .cpu_affinity({cpus[0]})
               .spawn(rt,
                      [&] {
                        Seen seen;
                        for (int i = 0; i < 200; ++i) {
                          look(seen, cpus, cpus[0]);
                          // Finishes on the other worker and wakes us from there.
                          ThreadBuilder()
                              .cpu_affinity({cpus[1]})
                              .spawn([] { quanta::this_thread::yield(); })
                              .join();
                          look(seen, cpus, cpus[0]);
                        }
                        return seen;
                      })
               .join();
  EXPECT_EQ(s.checks, 400);
  EXPECT_EQ(s.wrong_worker, 0) << "woken onto a worker outside its affinity";
  EXPECT_EQ(s.wrong_cpu, 0);
}

// The same when the waker is a ULT of another runtime.
TEST_P(AffinityWake, WakeFromAnotherRuntimeGoesToAnAllowedWorker) {
  Config cfg = quanta::test::config(2);
  cfg.scheduler = GetParam();
  Runtime rt(cfg);
  Runtime other(quanta::test::config(1));
  const std::vector<int> cpus = worker_cpus(rt);
  Seen s = ThreadBuilder()
               .cpu_affinity({cpus[1]})
               .spawn(rt,
                      [&] {
                        Seen seen;
                        for (int i = 0; i < 100; ++i) {
                          other.spawn([] { quanta::this_thread::yield(); }).join();
                          look(seen, cpus, cpus[1]);
                        }
                        return seen;
                      })
               .join();
  EXPECT_EQ(s.wrong_worker, 0);
  EXPECT_EQ(s.wrong_cpu, 0);
}

INSTANTIATE_TEST_SUITE_P(Schedulers, AffinityWake,
                         ::testing::Values(SchedulerKind::RoundRobin, SchedulerKind::WorkStealing),
                         [](const auto& info) {
                           return info.param == SchedulerKind::RoundRobin ? "RoundRobin"
                                                                          : "WorkStealing";
                         });

// ULTs allowed on several workers are still shared among those by stealing.
TEST(Affinity, WorkStealingSharesAMaskAmongItsWorkers) {
  Runtime rt(quanta::test::work_stealing(4));
  const std::vector<int> cpus = worker_cpus(rt);
  const int cpu = cpus[0];
  std::vector<int> allowed_workers;
  for (std::size_t i = 0; i < cpus.size(); ++i)
    if (cpus[i] == cpu) allowed_workers.push_back(static_cast<int>(i));
  if (allowed_workers.size() < 2) GTEST_SKIP() << "CPU " << cpu << " has a single worker";
  std::mutex mu;
  std::set<int> used;
  long wrong = 0;
  rt.spawn([&] {
      std::vector<JoinHandle<void>> hs;
      for (int i = 0; i < 200; ++i) {
        hs.push_back(ThreadBuilder().cpu_affinity({cpu}).spawn([&] {
          quanta::test::burn(200000);
          const int w = quanta::this_thread::worker_index();
          std::lock_guard lk(mu);
          used.insert(w);
          if (cpus[static_cast<std::size_t>(w)] != cpu) ++wrong;
        }));
      }
      for (auto& h : hs) h.join();
    }).join();
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(used.size(), allowed_workers.size()) << "the mask's other worker took nothing";
}

TEST(Affinity, CpusWithoutWorkersAreIgnored) {
  Runtime rt(quanta::test::config(2));
  const std::vector<int> cpus = worker_cpus(rt);
  const int w = ThreadBuilder()
                    .cpu_affinity({100000, cpus[1], 99999})
                    .spawn(rt, [] { return quanta::this_thread::worker_index(); })
                    .join();
  EXPECT_EQ(cpus[static_cast<std::size_t>(w)], cpus[1]);
}

std::string error_of(Runtime& rt, std::vector<int> mask) {
  try {
    ThreadBuilder().cpu_affinity(std::move(mask)).spawn(rt, [] {}).join();
  } catch (const quanta::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Affinity, MaskWithoutAWorkersCpuIsAConfigErrorNamingBoth) {
  Runtime rt(quanta::test::config(2));
  const std::vector<int> cpus = distinct(worker_cpus(rt));
  std::string list = std::to_string(cpus.front());
  if (cpus.size() > 1) {
    // Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict) about the
    // temporary of `const char* + std::string` here, a known false positive.
    list += cpus.back() == cpus.front() + static_cast<int>(cpus.size()) - 1 ? '-' : ',';
    list += std::to_string(cpus.back());
  }
  const std::string msg = error_of(rt, {4000, 4001, 4002, 4005});
  EXPECT_NE(msg.find("cpu_affinity {4000-4002,4005}"), std::string::npos) << msg;
  EXPECT_NE(msg.find("CPUs " + list), std::string::npos) << msg;
  EXPECT_NE(error_of(rt, {}).find("cpu_affinity {}"), std::string::npos);
  const std::string neg = error_of(rt, {0, -3});
  EXPECT_NE(neg.find("-3"), std::string::npos) << neg;
  // Nothing was spawned, nothing leaked: the runtime still works.
  EXPECT_EQ(rt.spawn([] { return 1; }).join(), 1);
}

TEST(Affinity, WorkerIndexAndNodeAreMinusOneOutsideARuntime) {
  EXPECT_EQ(quanta::this_thread::worker_index(), -1);
  EXPECT_EQ(quanta::this_thread::numa_node(), -1);
  Runtime rt(quanta::test::config(2));
  const int w = rt.spawn([] { return quanta::this_thread::worker_index(); }).join();
  EXPECT_GE(w, 0);
  EXPECT_LT(w, 2);
  const int node = rt.spawn([] { return quanta::this_thread::numa_node(); }).join();
  EXPECT_EQ(node, static_cast<int>(quanta::test::workers_of(rt)[0]->node));
}

}  // namespace
