// quanta::WaitGroup: wait() returns once every add()ed task is done(), from
// ULTs and kernel threads, with both schedulers; misuse is a UsageError.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using quanta::Runtime;
using quanta::WaitGroup;

TEST(WaitGroup, WaitReturnsAtOnceWhenNothingIsOutstanding) {
  WaitGroup wg;
  wg.wait();
  wg.add(2);
  EXPECT_EQ(wg.count(), 2);
  wg.done();
  wg.done();
  EXPECT_EQ(wg.count(), 0);
  wg.wait();
}

TEST(WaitGroup, UltsAndAKernelThreadWaitForManyUlts) {
  for (auto cfg : {quanta::test::round_robin(4), quanta::test::work_stealing(4)}) {
    Runtime rt(cfg);
    WaitGroup wg;
    std::atomic<int> finished{0};
    constexpr int kTasks = 500;
    wg.add(kTasks);
    std::atomic<int> waiters_saw{0};
    std::vector<quanta::JoinHandle<void>> waiters;
    for (int i = 0; i < 8; ++i) {
      waiters.push_back(rt.spawn([&] {
        wg.wait();
        if (finished.load() == kTasks) waiters_saw.fetch_add(1);
      }));
    }
    for (int i = 0; i < kTasks; ++i) {
      rt.spawn([&] {
          quanta::this_thread::yield();
          finished.fetch_add(1);
          wg.done();
        }).detach();
    }
    wg.wait();  // main: a kernel thread
    EXPECT_EQ(finished.load(), kTasks);
    for (auto& h : waiters) h.join();
    EXPECT_EQ(waiters_saw.load(), 8);
  }
}

TEST(WaitGroup, KernelThreadsFinishWhileAUltWaits) {
  Runtime rt(quanta::test::config(1));
  WaitGroup wg;
  wg.add(3);
  std::atomic<int> done{0};
  auto waiter = rt.spawn([&] {
    wg.wait();
    return done.load();
  });
  std::vector<std::thread> ts;
  for (int i = 0; i < 3; ++i) {
    ts.emplace_back([&] {
      std::this_thread::sleep_for(2ms);
      done.fetch_add(1);
      wg.done();
    });
  }
  EXPECT_EQ(waiter.join(), 3);
  for (auto& t : ts) t.join();
}

TEST(WaitGroup, CanBeReusedForAnotherRound) {
  Runtime rt(quanta::test::config(2));
  WaitGroup wg;
  for (int round = 0; round < 50; ++round) {
    std::atomic<int> n{0};
    wg.add(10);
    for (int i = 0; i < 10; ++i) {
      rt.spawn([&] {
          n.fetch_add(1);
          wg.done();
        }).detach();
    }
    wg.wait();
    EXPECT_EQ(n.load(), 10);
  }
}

TEST(WaitGroup, MoreDoneThanAddIsAUsageError) {
  WaitGroup wg;
  try {
    wg.done();
    FAIL();
  } catch (const quanta::UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "quanta::WaitGroup::done(): the counter is already 0; expected one done() per "
                 "add()ed task");
  }
  wg.add(2);
  try {
    wg.add(-3);
    FAIL();
  } catch (const quanta::UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "quanta::WaitGroup::add(-3): the counter is 2 and would drop below 0; expected no "
                 "more done() than add()ed tasks");
  }
  EXPECT_EQ(wg.count(), 2);
  EXPECT_THROW(wg.add(quanta::detail::kCountMax), quanta::UsageError);
  wg.add(-2);
  EXPECT_EQ(wg.count(), 0);
}

}  // namespace
