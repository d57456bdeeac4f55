// quanta::Mutex: mutual exclusion among ULTs, kernel threads and both mixed;
// a waiting ULT parks (its worker runs others); waiters are served in order.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using quanta::Mutex;
using quanta::Runtime;
using quanta::SchedulerKind;

quanta::Config make(SchedulerKind k, unsigned workers) {
  return k == SchedulerKind::WorkStealing ? quanta::test::work_stealing(workers)
                                          : quanta::test::round_robin(workers);
}

// The checks do not change the layout (docs/api.md quotes the size).
static_assert(sizeof(Mutex) == 40);

TEST(Mutex, LockableWithTheStandardGuards) {
  Mutex m;
  {
    std::lock_guard g(m);
    EXPECT_FALSE(m.try_lock());
  }
  EXPECT_TRUE(m.try_lock());
  m.unlock();
  {
    std::unique_lock lk(m);
    EXPECT_TRUE(lk.owns_lock());
    lk.unlock();
    EXPECT_TRUE(m.try_lock());
    m.unlock();
  }
  Mutex other;
  {
    std::scoped_lock both(m, other);
    EXPECT_FALSE(m.try_lock());
    EXPECT_FALSE(other.try_lock());
  }
  EXPECT_TRUE(other.try_lock());
  other.unlock();
}

TEST(Mutex, KernelThreadsOutsideAnyRuntime) {
  Mutex m;
  long counter = 0;
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        std::lock_guard g(m);
        ++counter;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(counter, 4 * 20000);
}

class MutexContention : public ::testing::TestWithParam<std::tuple<SchedulerKind, unsigned>> {};

TEST_P(MutexContention, UltsIncrementExactly) {
  auto [kind, workers] = GetParam();
  Runtime rt(make(kind, workers));
  Mutex m;
  long counter = 0;  // plain: only the mutex protects it
  constexpr int kUlts = 64, kIters = 2000;
  std::vector<quanta::JoinHandle<void>> hs;
  for (int i = 0; i < kUlts; ++i) {
    hs.push_back(rt.spawn([&] {
      for (int k = 0; k < kIters; ++k) {
        std::lock_guard g(m);
        long v = counter;
        if (k % 64 == 0) quanta::this_thread::yield();  // park others on the held lock
        counter = v + 1;
      }
    }));
  }
  for (auto& h : hs) h.join();
  EXPECT_EQ(counter, long{kUlts} * kIters);
}

INSTANTIATE_TEST_SUITE_P(
    Schedulers, MutexContention,
    ::testing::Combine(::testing::Values(SchedulerKind::RoundRobin, SchedulerKind::WorkStealing),
                       ::testing::Values(1u, 2u, 4u)),
    [](const auto& info) {
      return std::string(std::get<0>(info.param) == SchedulerKind::RoundRobin ? "RoundRobin"
                                                                              : "WorkStealing") +
             "_" + std::to_string(std::get<1>(info.param)) + "workers";
    });

TEST(Mutex, AWaitingUltParksAndItsWorkerRunsOthers) {
  // One worker: if the waiter blocked the kernel thread, neither the holder
  // nor the bystander could ever run again.
  Runtime rt(quanta::test::config(1));
  Mutex m;
  std::atomic<bool> bystander_ran{false};
  bool bystander_ran_while_waiting = false;
  rt.spawn([&] {
      m.lock();
      auto waiter = quanta::ThreadBuilder().spawn([&] {
        std::lock_guard g(m);
      });
      auto bystander = quanta::ThreadBuilder().spawn([&] { bystander_ran = true; });
      quanta::this_thread::sleep_for(10ms);  // the waiter parks, the bystander runs
      bystander_ran_while_waiting = bystander_ran.load();
      m.unlock();
      waiter.join();
      bystander.join();
    }).join();
  EXPECT_TRUE(bystander_ran_while_waiting);
}

TEST(Mutex, WaitersAreServedInArrivalOrderOnOneWorker) {
  Runtime rt(quanta::test::round_robin(1));
  Mutex m;
  std::vector<int> order;
  rt.spawn([&] {
      m.lock();
      std::vector<quanta::JoinHandle<void>> hs;
      for (int i = 0; i < 8; ++i) {
        hs.push_back(quanta::ThreadBuilder().spawn([&, i] {
          std::lock_guard g(m);
          order.push_back(i);
        }));
      }
      quanta::this_thread::sleep_for(5ms);  // all eight queue up, in spawn order
      m.unlock();
      for (auto& h : hs) h.join();
    }).join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(Mutex, UltsAndKernelThreadsShareOneMutex) {
  Runtime rt(quanta::test::config(2));
  Mutex m;
  long counter = 0;
  constexpr int kIters = 20000;
  std::vector<quanta::JoinHandle<void>> hs;
  for (int i = 0; i < 8; ++i) {
    hs.push_back(rt.spawn([&] {
      for (int k = 0; k < kIters; ++k) {
        std::lock_guard g(m);
        ++counter;
      }
    }));
  }
  std::vector<std::thread> ts;
  for (int t = 0; t < 2; ++t) {
    ts.emplace_back([&] {
      for (int k = 0; k < kIters; ++k) {
        std::lock_guard g(m);
        ++counter;
      }
    });
  }
  for (auto& h : hs) h.join();
  for (auto& t : ts) t.join();
  EXPECT_EQ(counter, 10L * kIters);
}

TEST(Mutex, AKernelThreadHoldsItWhileUltsWait) {
  Runtime rt(quanta::test::config(2));
  Mutex m;
  m.lock();  // main, a kernel thread
  std::atomic<int> got{0};
  std::vector<quanta::JoinHandle<void>> hs;
  for (int i = 0; i < 16; ++i) {
    hs.push_back(rt.spawn([&] {
      std::lock_guard g(m);
      got.fetch_add(1);
    }));
  }
  std::this_thread::sleep_for(10ms);
  EXPECT_EQ(got.load(), 0);
  m.unlock();
  for (auto& h : hs) h.join();
  EXPECT_EQ(got.load(), 16);
}

TEST(Mutex, UltsOfTwoRuntimesShareOneMutex) {
  Runtime a(quanta::test::round_robin(1)), b(quanta::test::work_stealing(2));
  Mutex m;
  long counter = 0;
  std::vector<quanta::JoinHandle<void>> hs;
  for (int i = 0; i < 8; ++i) {
    hs.push_back((i % 2 ? a : b).spawn([&] {
      for (int k = 0; k < 5000; ++k) {
        std::lock_guard g(m);
        ++counter;
      }
    }));
  }
  for (auto& h : hs) h.join();
  EXPECT_EQ(counter, 8L * 5000);
}

TEST(MutexDeathTest, UnlockingAnUnlockedMutexAborts) {
  GTEST_FLAG_SET(death_test_style, "fast");
  EXPECT_DEATH(
      {
        Mutex m;
        m.unlock();
      },
      "quanta::Mutex::unlock: .*");
}

}  // namespace
