// quanta::RwLock under preemption: readers that never stop on their own keep
// the lock read-held almost all the time, and writers must still get in,
// again and again; every read sees a consistent pair. Kernel threads read
// and write too. A starved writer makes no progress: the watchdog aborts.
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
using quanta::SchedulerKind;

class RwLockStress : public ::testing::TestWithParam<SchedulerKind> {};

TEST_P(RwLockStress, WritersGetInDespiteContinuousReaders) {
  quanta::Config cfg = quanta::test::preemptive(4, 100us);
  cfg.scheduler = GetParam();
  Runtime rt(cfg);
  RwLock l;
  long a = 0, b = 0;  // writers keep a == b
  std::atomic<bool> stop{false};
  std::atomic<long> writes{0}, reads{0}, torn{0};
  const long kWrites = quanta::test::stress_scaled(20'000, 1'000);
  quanta::test::Watchdog dog("rwlock writers", [&] { return writes.load(); });

  auto reader = [&](int i) {
    while (!stop.load(std::memory_order_relaxed)) {
      std::shared_lock r(l);
      const long x = a;
      quanta::test::burn(500 + i % 7 * 300);  // long enough to overlap the others
      if (b != x) torn.fetch_add(1);
      reads.fetch_add(1, std::memory_order_relaxed);
    }
  };
  std::vector<quanta::JoinHandle<void>> readers;
  for (int i = 0; i < 64; ++i) readers.push_back(rt.spawn([&, i] { reader(i); }));
  std::thread kernel_reader([&] { reader(3); });

  auto writer = [&] {
    for (long k = 0; k < kWrites / 5; ++k) {
      std::unique_lock w(l);
      ++a;
      quanta::test::burn(200);
      ++b;
      writes.fetch_add(1, std::memory_order_relaxed);
    }
  };
  std::vector<quanta::JoinHandle<void>> writers;
  for (int i = 0; i < 4; ++i) writers.push_back(rt.spawn(writer));
  std::thread kernel_writer(writer);

  for (auto& h : writers) h.join();
  kernel_writer.join();
  stop = true;
  for (auto& h : readers) h.join();
  kernel_reader.join();

  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(a, kWrites / 5 * 5);
  EXPECT_EQ(b, a);
  EXPECT_GT(reads.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Schedulers, RwLockStress,
                         ::testing::Values(SchedulerKind::RoundRobin, SchedulerKind::WorkStealing),
                         [](const auto& info) {
                           return info.param == SchedulerKind::RoundRobin ? "RoundRobin"
                                                                          : "WorkStealing";
                         });

}  // namespace
