// quanta::Mutex under preemption: 1000 ULTs increment one plain counter 10^7
// times in total on four workers with a 100 us time slice, and are preempted
// inside and outside the critical section; the count must come out exact.
// Kernel threads join in for a second variant. Iterations shrink under ASan
// and QEMU (test_support.hpp, kStressDivisor); 1000 ULTs stay.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using quanta::Mutex;
using quanta::Runtime;
using quanta::SchedulerKind;

class MutexStress : public ::testing::TestWithParam<SchedulerKind> {};

TEST_P(MutexStress, TenMillionIncrementsByAThousandPreemptedUlts) {
  quanta::Config cfg = quanta::test::preemptive(4, 100us);
  cfg.scheduler = GetParam();
  Runtime rt(cfg);
  constexpr int kUlts = 1000;
  const long per_ult = quanta::test::stress_scaled(10'000'000, 200'000) / kUlts;
  Mutex m;
  long counter = 0;  // only the mutex protects it
  std::atomic<long> progress{0}, preempted_holding{0};
  std::atomic<bool> stop{false};
  quanta::test::Watchdog dog("mutex stress", [&] { return progress.load(); });

  // Spinners keep every worker's run queue non-empty, so that a ULT holding
  // the lock for more than a slice is preempted; they yield often, so that a
  // preempted holder soon gets its worker back.
  std::vector<quanta::JoinHandle<void>> spinners;
  for (int i = 0; i < 8; ++i) {
    spinners.push_back(rt.spawn([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        quanta::test::burn(2000);
        quanta::this_thread::yield();
      }
    }));
  }
  std::vector<quanta::JoinHandle<void>> hs;
  hs.reserve(kUlts);
  for (int i = 0; i < kUlts; ++i) {
    hs.push_back(rt.spawn([&, i] {
      for (long k = 0; k < per_ult; ++k) {
        {
          std::lock_guard g(m);
          const long v = counter;
          if (i % 10 == 0 && k == per_ult / 2) {
            // Now and then, hold the lock for a few slices.
            const auto before = quanta::this_thread::preemption_counters().taken;
            quanta::test::burn(1'000'000);
            if (quanta::this_thread::preemption_counters().taken != before)
              preempted_holding.fetch_add(1, std::memory_order_relaxed);
          } else if ((k + i) % 256 == 0) {
            quanta::test::burn(20000);
          }
          counter = v + 1;
        }
        if ((k + i) % 64 == 0) quanta::test::burn(2000);
        if ((k & 1023) == 0) progress.fetch_add(1, std::memory_order_relaxed);
      }
    }));
  }
  for (auto& h : hs) h.join();
  stop = true;
  for (auto& h : spinners) h.join();
  EXPECT_EQ(counter, kUlts * per_ult);
  EXPECT_GT(preempted_holding.load(), 0) << "no ULT was ever preempted while holding the mutex";
  std::printf("preempted while holding the mutex: %ld of %d long holds\n",
              preempted_holding.load(), kUlts / 10);
}

TEST_P(MutexStress, PreemptedUltsAndKernelThreadsShareOneMutex) {
  quanta::Config cfg = quanta::test::preemptive(2, 100us);
  cfg.scheduler = GetParam();
  Runtime rt(cfg);
  constexpr int kUlts = 200, kThreads = 2;
  const long per = quanta::test::stress_scaled(1'000'000, 50'000) / (kUlts + kThreads);
  Mutex m;
  long counter = 0;
  auto body = [&](int i) {
    for (long k = 0; k < per; ++k) {
      std::lock_guard g(m);
      const long v = counter;
      if ((k + i) % 128 == 0) quanta::test::burn(10000);
      counter = v + 1;
    }
  };
  std::vector<quanta::JoinHandle<void>> hs;
  for (int i = 0; i < kUlts; ++i) hs.push_back(rt.spawn([&, i] { body(i); }));
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) ts.emplace_back(body, t);
  for (auto& h : hs) h.join();
  for (auto& t : ts) t.join();
  EXPECT_EQ(counter, (kUlts + kThreads) * per);
}

INSTANTIATE_TEST_SUITE_P(Schedulers, MutexStress,
                         ::testing::Values(SchedulerKind::RoundRobin, SchedulerKind::WorkStealing),
                         [](const auto& info) {
                           return info.param == SchedulerKind::RoundRobin ? "RoundRobin"
                                                                          : "WorkStealing";
                         });

}  // namespace
