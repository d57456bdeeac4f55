// quanta::RwLock: shared readers, exclusive writers, the standard lock
// guards, a writer gets in despite a continuous stream of readers, kernel
// threads and ULTs share one, and unlocking what is not held aborts.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using quanta::Runtime;
using quanta::RwLock;

TEST(RwLock, WorksWithTheStandardGuards) {
  RwLock l;
  {
    std::shared_lock r1(l);
    std::shared_lock r2(l);
    EXPECT_FALSE(l.try_lock());
    EXPECT_TRUE(l.try_lock_shared());
    l.unlock_shared();
  }
  {
    std::unique_lock w(l);
    EXPECT_FALSE(l.try_lock_shared());
    EXPECT_FALSE(l.try_lock());
  }
  {
    std::lock_guard w(l);
  }
  EXPECT_TRUE(l.try_lock());
  l.unlock();
}

TEST(RwLock, ReadersHoldItTogether) {
  // Two readers meet inside their read sections: only possible if both hold
  // the lock at once.
  Runtime rt(quanta::test::config(2));
  RwLock l;
  quanta::Latch both_inside(2);
  auto reader = [&] {
    std::shared_lock r(l);
    both_inside.arrive_and_wait();
  };
  auto a = rt.spawn(reader);
  auto b = rt.spawn(reader);
  a.join();
  b.join();
  SUCCEED();
}

TEST(RwLock, WritersExcludeEveryoneAmongUltsAndKernelThreads) {
  for (auto cfg : {quanta::test::round_robin(4), quanta::test::work_stealing(4)}) {
    Runtime rt(cfg);
    RwLock l;
    long a = 0, b = 0;  // a writer keeps a == b
    std::atomic<long> torn{0}, reads{0};
    auto writer = [&] {
      for (int k = 0; k < 2000; ++k) {
        std::unique_lock w(l);
        ++a;
        if (k % 16 == 0) quanta::this_thread::yield();
        ++b;
      }
    };
    auto reader = [&] {
      for (int k = 0; k < 2000; ++k) {
        std::shared_lock r(l);
        if (a != b) torn.fetch_add(1);
        reads.fetch_add(1);
        if (k % 16 == 0) quanta::this_thread::yield();
      }
    };
    std::vector<quanta::JoinHandle<void>> hs;
    for (int i = 0; i < 4; ++i) hs.push_back(rt.spawn(writer));
    for (int i = 0; i < 12; ++i) hs.push_back(rt.spawn(reader));
    std::thread kw(writer), kr(reader);
    for (auto& h : hs) h.join();
    kw.join();
    kr.join();
    EXPECT_EQ(torn.load(), 0);
    EXPECT_EQ(a, 5 * 2000);
    EXPECT_EQ(b, 5 * 2000);
    EXPECT_EQ(reads.load(), 13 * 2000);
  }
}

TEST(RwLock, AWriterGetsInDespiteContinuousReaders) {
  // Readers overlap so that some reader always holds the lock; they stop
  // only once the writer is done. Without writer priority over new readers
  // this never ends.
  for (auto cfg : {quanta::test::round_robin(2), quanta::test::work_stealing(2)}) {
    Runtime rt(cfg);
    RwLock l;
    std::atomic<bool> writer_done{false};
    std::atomic<long> reads{0};
    std::vector<quanta::JoinHandle<void>> readers;
    for (int i = 0; i < 8; ++i) {
      readers.push_back(rt.spawn([&] {
        while (!writer_done.load()) {
          std::shared_lock r(l);
          reads.fetch_add(1);
          quanta::this_thread::sleep_for(100us);  // hold it across other readers' entries
        }
      }));
    }
    ASSERT_TRUE(quanta::test::eventually([&] { return reads.load() > 100; }));
    auto writer = rt.spawn([&] {
      for (int k = 0; k < 20; ++k) {
        std::unique_lock w(l);
      }
      writer_done = true;
    });
    writer.join();
    for (auto& h : readers) h.join();
    SUCCEED();
  }
}

TEST(RwLock, AKernelThreadWriterAndUltReaders) {
  Runtime rt(quanta::test::config(2));
  RwLock l;
  l.lock();  // main writes
  std::atomic<int> read{0};
  std::vector<quanta::JoinHandle<void>> hs;
  for (int i = 0; i < 10; ++i) {
    hs.push_back(rt.spawn([&] {
      std::shared_lock r(l);
      read.fetch_add(1);
    }));
  }
  std::this_thread::sleep_for(2ms);
  EXPECT_EQ(read.load(), 0);
  l.unlock();  // the queued readers are let in together
  for (auto& h : hs) h.join();
  EXPECT_EQ(read.load(), 10);
}

TEST(RwLock, WaitersAreServedInArrivalOrderWithReadersInBatches) {
  Runtime rt(quanta::test::round_robin(1));
  RwLock l;
  std::vector<char> order;
  rt.spawn([&] {
      l.lock();
      std::vector<quanta::JoinHandle<void>> hs;
      auto w = [&] {
        std::unique_lock g(l);
        order.push_back('w');
      };
      auto r = [&] {
        std::shared_lock g(l);
        order.push_back('r');
        quanta::this_thread::yield();  // readers of one batch overlap
        order.push_back('R');
      };
      hs.push_back(quanta::ThreadBuilder().spawn(r));
      hs.push_back(quanta::ThreadBuilder().spawn(r));
      hs.push_back(quanta::ThreadBuilder().spawn(w));
      hs.push_back(quanta::ThreadBuilder().spawn(r));
      quanta::this_thread::sleep_for(2ms);  // all four queue up in order
      l.unlock();
      for (auto& h : hs) h.join();
    }).join();
  // Two readers together, then the writer alone, then the last reader.
  EXPECT_EQ(std::string(order.begin(), order.end()), "rrRRwrR");
}

TEST(RwLockDeathTest, UnlockingWhatIsNotHeldAborts) {
  GTEST_FLAG_SET(death_test_style, "fast");
  EXPECT_DEATH(
      {
        RwLock l;
        l.unlock();
      },
      "quanta::RwLock::unlock: no writer holds the lock; expected unlock\\(\\) after lock\\(\\)");
  EXPECT_DEATH(
      {
        RwLock l;
        l.unlock_shared();
      },
      "quanta::RwLock::unlock_shared: no reader holds the lock");
  EXPECT_DEATH(
      {
        RwLock l;
        l.lock();
        l.unlock_shared();
      },
      "quanta::RwLock::unlock_shared: no reader holds the lock");
}

}  // namespace
