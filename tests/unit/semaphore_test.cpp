// quanta::Semaphore: counting, parking ULTs and blocking kernel threads while
// the count is 0, FIFO service, timed acquires, and no unit ever lost or
// duplicated when timeouts race releases.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using quanta::Runtime;
using quanta::Semaphore;

TEST(Semaphore, CountsUnitsUpToItsMaximum) {
  Semaphore s(2, 3);
  EXPECT_EQ(s.available(), 2);
  EXPECT_EQ(s.max(), 3);
  EXPECT_TRUE(s.try_acquire());
  EXPECT_TRUE(s.try_acquire());
  EXPECT_FALSE(s.try_acquire());
  s.release(3);
  EXPECT_EQ(s.available(), 3);
  s.acquire();
  EXPECT_EQ(s.available(), 2);
  s.release(0);
  EXPECT_EQ(s.available(), 2);
  EXPECT_EQ(Semaphore().max(), Semaphore::kMaxCount);
  EXPECT_EQ(Semaphore().available(), 0);
}

TEST(Semaphore, BadConstructionIsAConfigError) {
  try {
    Semaphore s(5, 4);
    FAIL();
  } catch (const quanta::ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "quanta::Semaphore: initial count 5 is outside the accepted range [0, max = 4]");
  }
  EXPECT_THROW(Semaphore(-1), quanta::ConfigError);
  try {
    Semaphore s(0, 0);
    FAIL();
  } catch (const quanta::ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "quanta::Semaphore: max 0 is outside the accepted range [1, 2305843009213693952]");
  }
  EXPECT_THROW(Semaphore(0, Semaphore::kMaxCount + 1), quanta::ConfigError);
}

TEST(Semaphore, ReleaseBeyondTheMaximumIsAUsageErrorAndReleasesNothing) {
  Semaphore s(3, 5);
  try {
    s.release(3);
    FAIL();
  } catch (const quanta::UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "quanta::Semaphore::release(3): the count 3 would exceed the maximum 5; expected "
                 "at most 2 units");
  }
  EXPECT_EQ(s.available(), 3);
  try {
    s.release(-2);
    FAIL();
  } catch (const quanta::UsageError& e) {
    EXPECT_STREQ(e.what(), "quanta::Semaphore::release(-2): expected a count of units >= 0");
  }
  EXPECT_EQ(s.available(), 3);
  s.release(2);
  EXPECT_EQ(s.available(), 5);
}

TEST(Semaphore, ReleaseBeyondTheMaximumWithWaitersIsAUsageError) {
  Runtime rt(quanta::test::config(1));
  Semaphore s(0, 2);
  auto waiter = rt.spawn([&] { s.acquire(); });
  std::this_thread::sleep_for(2ms);  // the waiter queues (if not, the same holds)
  EXPECT_THROW(s.release(3), quanta::UsageError);
  s.release(2);  // one to the waiter, one to the count
  waiter.join();
  EXPECT_EQ(s.available(), 1);
}

TEST(Semaphore, AnAcquiringUltParksUntilARelease) {
  Runtime rt(quanta::test::config(1));
  Semaphore s(0);
  std::atomic<int> stage{0};
  auto waiter = rt.spawn([&] {
    stage = 1;
    s.acquire();
    stage = 2;
  });
  auto bystander = rt.spawn([&] {
    // Runs on the same single worker while the waiter is parked.
    while (stage.load() != 1) quanta::this_thread::yield();
    return stage.load();
  });
  EXPECT_EQ(bystander.join(), 1);
  std::this_thread::sleep_for(2ms);
  EXPECT_EQ(stage.load(), 1);
  s.release();
  waiter.join();
  EXPECT_EQ(stage.load(), 2);
}

TEST(Semaphore, WaitersAreServedInArrivalOrderOnOneWorker) {
  Runtime rt(quanta::test::round_robin(1));
  Semaphore s(0);
  std::vector<int> order;
  rt.spawn([&] {
      std::vector<quanta::JoinHandle<void>> hs;
      for (int i = 0; i < 6; ++i) {
        hs.push_back(quanta::ThreadBuilder().spawn([&, i] {
          s.acquire();
          order.push_back(i);
        }));
      }
      quanta::this_thread::sleep_for(2ms);  // all six queue up
      for (int i = 0; i < 6; ++i) s.release();
      for (auto& h : hs) h.join();
    }).join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

TEST(Semaphore, ReleaseOfNWakesNWaiters) {
  Runtime rt(quanta::test::config(2));
  Semaphore s(0);
  std::atomic<int> through{0};
  std::vector<quanta::JoinHandle<void>> hs;
  for (int i = 0; i < 10; ++i) {
    hs.push_back(rt.spawn([&] {
      s.acquire();
      through.fetch_add(1);
    }));
  }
  std::this_thread::sleep_for(2ms);
  s.release(4);
  ASSERT_TRUE(quanta::test::eventually([&] { return through.load() == 4; }));
  std::this_thread::sleep_for(2ms);
  EXPECT_EQ(through.load(), 4);
  s.release(6);
  for (auto& h : hs) h.join();
  EXPECT_EQ(through.load(), 10);
  EXPECT_EQ(s.available(), 0);
}

TEST(Semaphore, TimedAcquiresTimeOutNoEarlierThanAsked) {
  Runtime rt(quanta::test::config(2));
  Semaphore s(0);
  auto timed = [&] {
    const auto t0 = Clock::now();
    const bool got = s.try_acquire_for(3ms);
    const auto t1 = Clock::now();
    const bool got_until = s.try_acquire_until(Clock::now() + 2ms);
    return std::make_tuple(got, t1 - t0, got_until, Clock::now() - t1);
  };
  auto h = rt.spawn(timed);
  auto [gk, tk, guk, tuk] = timed();  // a kernel thread at the same time
  auto [gu, tu, guu, tuu] = h.join();
  EXPECT_FALSE(gk);
  EXPECT_FALSE(gu);
  EXPECT_FALSE(guk);
  EXPECT_FALSE(guu);
  EXPECT_GE(tk, 3ms);
  EXPECT_GE(tu, 3ms);
  EXPECT_GE(tuk, 2ms);
  EXPECT_GE(tuu, 2ms);
  EXPECT_EQ(s.available(), 0);
  s.release();
  EXPECT_TRUE(s.try_acquire_for(0ms));                    // available: no wait
  EXPECT_FALSE(s.try_acquire_until(Clock::now() - 1s));  // past deadline, none available
}

TEST(Semaphore, ATimedAcquireGetsAUnitReleasedInTime) {
  Runtime rt(quanta::test::config(2));
  Semaphore s(0);
  auto h = rt.spawn([&] { return s.try_acquire_for(20s); });
  std::this_thread::sleep_for(2ms);
  s.release();
  EXPECT_TRUE(h.join());
  EXPECT_EQ(s.available(), 0);
}

TEST(Semaphore, BoundsConcurrencyAmongUltsAndKernelThreads) {
  for (auto cfg : {quanta::test::round_robin(4), quanta::test::work_stealing(4)}) {
    Runtime rt(cfg);
    Semaphore s(3);
    std::atomic<int> inside{0}, most{0};
    auto body = [&] {
      for (int k = 0; k < 200; ++k) {
        s.acquire();
        const int now = inside.fetch_add(1) + 1;
        int m = most.load();
        while (now > m && !most.compare_exchange_weak(m, now)) {
        }
        quanta::this_thread::yield();
        inside.fetch_sub(1);
        s.release();
      }
    };
    std::vector<quanta::JoinHandle<void>> hs;
    for (int i = 0; i < 50; ++i) hs.push_back(rt.spawn(body));
    std::thread t1(body), t2(body);
    for (auto& h : hs) h.join();
    t1.join();
    t2.join();
    EXPECT_LE(most.load(), 3);
    EXPECT_GE(most.load(), 1);
    EXPECT_EQ(s.available(), 3);
  }
}

TEST(Semaphore, NoUnitIsLostOrDuplicatedWhenTimeoutsRaceReleases) {
  // Acquirers with timeouts of 0-20 us race a stream of single releases. A
  // unit handed to a waiter that also timed out would be lost (the total
  // never reaches kUnits); one counted twice would push it beyond.
  for (auto cfg : {quanta::test::round_robin(4), quanta::test::work_stealing(4)}) {
    Runtime rt(cfg);
    Semaphore s(0);
    const long kUnits = quanta::test::stress_scaled(20000, 2000);
    std::atomic<long> got{0}, timeouts{0};
    std::atomic<bool> stop{false};
    std::vector<quanta::JoinHandle<void>> hs;
    for (int i = 0; i < 16; ++i) {
      hs.push_back(rt.spawn([&, i] {
        while (!stop.load()) {
          if (s.try_acquire_for(std::chrono::microseconds(i % 5 * 5)))
            got.fetch_add(1);
          else
            timeouts.fetch_add(1);
          quanta::this_thread::yield();  // no preemption here: let the releaser run
        }
      }));
    }
    auto releaser = rt.spawn([&] {
      for (long k = 0; k < kUnits; ++k) {
        s.release();
        if (k % 8 == 0) quanta::this_thread::yield();
      }
    });
    std::thread kernel_acquirer([&] {
      while (!stop.load()) {
        if (s.try_acquire_for(10us)) got.fetch_add(1);
      }
    });
    releaser.join();
    const bool drained =
        quanta::test::eventually([&] { return got.load() + s.available() >= kUnits; });
    stop = true;
    for (auto& h : hs) h.join();
    kernel_acquirer.join();
    EXPECT_TRUE(drained);
    EXPECT_EQ(got.load() + s.available(), kUnits);
    EXPECT_GT(timeouts.load(), 0);
  }
}

}  // namespace
