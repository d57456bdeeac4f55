// Yield, park and wake under stress: ULTs on several workers join each other
// across workers, wake from kernel threads, and yield at random points; every
// count must come out exact.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using quanta::JoinHandle;
using quanta::Runtime;

TEST(YieldStress, ManyUltsYieldingOnManyWorkers) {
  Runtime rt(quanta::test::config(4));
  constexpr int kUlts = 200, kYields = 2000;
  std::atomic<long> total{0};
  std::vector<JoinHandle<void>> hs;
  for (int i = 0; i < kUlts; ++i) {
    hs.push_back(rt.spawn([&] {
      long local = 0;
      for (int y = 0; y < kYields; ++y) {
        ++local;
        quanta::this_thread::yield();
      }
      total.fetch_add(local);
    }));
  }
  for (auto& h : hs) h.join();
  EXPECT_EQ(total.load(), static_cast<long>(kUlts) * kYields);
}

TEST(YieldStress, ChainsOfJoinsAcrossWorkers) {
  Runtime rt(quanta::test::config(3));
  for (int round = 0; round < 20; ++round) {
    // Each ULT joins the previous one: a chain of parks and wakes that
    // crosses workers.
    std::vector<std::shared_ptr<JoinHandle<long>>> chain;
    chain.push_back(std::make_shared<JoinHandle<long>>(rt.spawn([] { return 1L; })));
    for (int i = 1; i < 200; ++i) {
      auto prev = chain.back();
      chain.push_back(std::make_shared<JoinHandle<long>>(rt.spawn([prev, i] {
        std::minstd_rand rng(i);
        if (rng() % 3 == 0) quanta::this_thread::yield();
        return prev->join() + 1;
      })));
    }
    EXPECT_EQ(chain.back()->join(), 200);
  }
}

TEST(YieldStress, KernelThreadsJoinWhileUltsYield) {
  Runtime rt(quanta::test::config(2));
  std::atomic<long> sum{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        auto h = rt.spawn([t, i] {
          for (int y = 0; y < (i % 5); ++y) quanta::this_thread::yield();
          return t + i;
        });
        sum += h.join();
      }
    });
  }
  for (auto& th : threads) th.join();
  long expected = 0;
  for (int t = 0; t < 3; ++t)
    for (int i = 0; i < 300; ++i) expected += t + i;
  EXPECT_EQ(sum.load(), expected);
}

TEST(YieldStress, RepeatedRuntimeStartStop) {
  for (int i = 0; i < 50; ++i) {
    Runtime rt(quanta::test::config(1 + i % 3));
    std::vector<JoinHandle<int>> hs;
    for (int k = 0; k < 20; ++k) hs.push_back(rt.spawn([k] {
      quanta::this_thread::yield();
      return k;
    }));
    int s = 0;
    for (auto& h : hs) s += h.join();
    ASSERT_EQ(s, 190);
  }
}

}  // namespace
