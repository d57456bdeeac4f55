// A ULT that never yields does not starve the others: on one worker, 8 ULTs
// spinning in `while (true)` loops all make progress, and a 9th that only
// sleeps and prints still runs.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using quanta::Runtime;

TEST(PreemptSpinningUlts, EightSpinnersAndASleeperShareOneWorker) {
  Runtime rt(quanta::test::preemptive(1, 1000us));
  std::atomic<bool> stop{false};
  std::vector<std::atomic<long>> progress(8);
  std::vector<quanta::JoinHandle<void>> spinners;
  for (int i = 0; i < 8; ++i) {
    spinners.push_back(rt.spawn([&, i] {
      while (!stop.load(std::memory_order_relaxed))
        progress[i].store(progress[i].load(std::memory_order_relaxed) + 1,
                          std::memory_order_relaxed);
    }));
  }
  std::atomic<int> naps{0};
  auto sleeper = rt.spawn([&] {
    for (int i = 0; i < 5; ++i) {
      quanta::this_thread::sleep_for(2ms);
      std::printf("sleeper: nap %d done\n", i + 1);
      naps.fetch_add(1);
    }
  });
  // Everyone must get the worker at least once, several times over.
  std::vector<long> seen(8, 0);
  bool all = quanta::test::eventually([&] {
    for (int i = 0; i < 8; ++i)
      if (progress[i].load() == 0) return false;
    return naps.load() == 5;
  });
  for (int i = 0; i < 8; ++i) seen[i] = progress[i].load();
  // And keep getting it: each spinner advances again.
  bool again = quanta::test::eventually([&] {
    for (int i = 0; i < 8; ++i)
      if (progress[i].load() == seen[i]) return false;
    return true;
  });
  stop = true;
  for (auto& h : spinners) h.join();
  sleeper.join();
  EXPECT_TRUE(all) << "some spinner never ran or the sleeper did not finish";
  EXPECT_TRUE(again) << "some spinner stopped getting the worker";
  auto st = quanta::preemption_stats(rt);
  std::printf("preemptions: sent %llu, taken %llu, deferred %llu\n",
              static_cast<unsigned long long>(st.total.sent),
              static_cast<unsigned long long>(st.total.taken),
              static_cast<unsigned long long>(st.total.deferred));
  EXPECT_GT(st.total.taken, 8u);
}

TEST(PreemptSpinningUlts, SpinnersOnEveryWorkerAllProgress) {
  Runtime rt(quanta::test::preemptive(2, 500us));
  std::atomic<bool> stop{false};
  constexpr int kN = 16;
  std::vector<std::atomic<long>> progress(kN);
  std::vector<quanta::JoinHandle<void>> hs;
  for (int i = 0; i < kN; ++i) {
    hs.push_back(rt.spawn([&, i] {
      while (!stop.load(std::memory_order_relaxed)) progress[i].fetch_add(1, std::memory_order_relaxed);
    }));
  }
  bool all = quanta::test::eventually([&] {
    for (auto& p : progress)
      if (p.load() == 0) return false;
    return true;
  });
  stop = true;
  for (auto& h : hs) h.join();
  EXPECT_TRUE(all);
}

}  // namespace
