// sleep_for / sleep_until park the ULT (the worker runs others meanwhile) and
// never wake it earlier than asked.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using quanta::Runtime;

TEST(Sleep, SleepForWakesNoEarlierThanAsked) {
  Runtime rt(quanta::test::config(2));
  std::vector<quanta::JoinHandle<Clock::duration>> hs;
  for (int ms : {1, 5, 10, 20, 3, 15}) {
    hs.push_back(rt.spawn([ms] {
      auto t0 = Clock::now();
      quanta::this_thread::sleep_for(std::chrono::milliseconds(ms));
      return Clock::now() - t0;
    }));
  }
  int i = 0;
  for (int ms : {1, 5, 10, 20, 3, 15}) {
    EXPECT_GE(hs[i++].join(), std::chrono::milliseconds(ms));
  }
}

TEST(Sleep, SleepUntilWakesNoEarlierThanTheDeadline) {
  Runtime rt(quanta::test::config(1));
  auto deadline = Clock::now() + 12ms;
  auto woke = rt.spawn([deadline] {
                  quanta::this_thread::sleep_until(deadline);
                  return Clock::now();
                }).join();
  EXPECT_GE(woke, deadline);
}

TEST(Sleep, ZeroAndPastDeadlinesReturnAtOnce) {
  Runtime rt(quanta::test::config(1));
  rt.spawn([] {
      quanta::this_thread::sleep_for(0ms);
      quanta::this_thread::sleep_for(-5ms);
      quanta::this_thread::sleep_until(Clock::now() - 1s);
    }).join();
  SUCCEED();
}

TEST(Sleep, SleepersWakeInDeadlineOrderOnOneWorker) {
  Runtime rt(quanta::test::config(1));
  std::vector<int> order;
  rt.spawn([&] {
      std::vector<quanta::JoinHandle<void>> hs;
      for (int ms : {30, 10, 20, 5, 25}) {
        hs.push_back(rt.spawn([&order, ms] {
          quanta::this_thread::sleep_for(std::chrono::milliseconds(ms));
          order.push_back(ms);
        }));
      }
      for (auto& h : hs) h.join();
    }).join();
  EXPECT_EQ(order, (std::vector<int>{5, 10, 20, 25, 30}));
}

TEST(Sleep, WorkerRunsOthersWhileAUltSleeps) {
  Runtime rt(quanta::test::config(1));
  std::atomic<bool> sleeping_done{false};
  std::atomic<long> spins{0};
  auto sleeper = rt.spawn([&] {
    quanta::this_thread::sleep_for(30ms);
    sleeping_done = true;
  });
  auto spinner = rt.spawn([&] {
    while (!sleeping_done.load()) {
      spins.fetch_add(1);
      quanta::this_thread::yield();
    }
  });
  sleeper.join();
  spinner.join();
  EXPECT_GT(spins.load(), 0) << "the only worker must have run the spinner during the sleep";
}

TEST(Sleep, OutsideAUltSleepsTheKernelThread) {
  auto t0 = Clock::now();
  quanta::this_thread::sleep_for(5ms);
  EXPECT_GE(Clock::now() - t0, 5ms);
  quanta::this_thread::yield();  // sched_yield; must not crash
}

}  // namespace
