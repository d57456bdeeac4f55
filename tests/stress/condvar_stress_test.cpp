// quanta::CondVar under stress: a producer and a consumer hand 10^6 values
// through a one-slot buffer with untimed waits, while bystanders wait on the
// same condition variables with timeouts of 0-20 us, so that timeouts race
// notifications all the time. A bystander that is notified forwards the
// notification (it took one meant for someone else); one that times out does
// not. A notification lost to a timed-out waiter, or counted both ways,
// leaves the producer and the consumer asleep for good: the watchdog then
// aborts the test. Every value must arrive, in order. Runs with both
// schedulers, under preemption, with a kernel-thread bystander too.
// Handoffs shrink under ASan and QEMU (test_support.hpp, kStressDivisor).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using quanta::CondVar;
using quanta::Mutex;
using quanta::Runtime;
using quanta::SchedulerKind;

class CondVarStress : public ::testing::TestWithParam<SchedulerKind> {};

TEST_P(CondVarStress, AMillionHandoffsWithTimeoutsRacingNotifications) {
  quanta::Config cfg = quanta::test::preemptive(4, 100us);
  cfg.scheduler = GetParam();
  Runtime rt(cfg);
  const long kHandoffs = quanta::test::stress_scaled(1'000'000, 20'000);

  Mutex m;
  CondVar not_empty, not_full;
  long slot = 0;  // 0: empty
  std::atomic<long> delivered{0};
  std::atomic<bool> done{false};
  std::atomic<long> notified_bystanders{0}, timed_out_bystanders{0};
  quanta::test::Watchdog dog("condvar handoffs", [&] { return delivered.load(); });

  auto consumer = rt.spawn([&] {
    long bad = 0;
    for (long i = 1; i <= kHandoffs; ++i) {
      std::unique_lock lk(m);
      not_empty.wait(lk, [&] { return slot != 0; });
      if (slot != i) ++bad;
      slot = 0;
      delivered.store(i, std::memory_order_relaxed);
      not_full.notify_one();
    }
    return bad;
  });
  auto producer = rt.spawn([&] {
    for (long i = 1; i <= kHandoffs; ++i) {
      std::unique_lock lk(m);
      not_full.wait(lk, [&] { return slot == 0; });
      slot = i;
      not_empty.notify_one();
    }
  });
  auto bystand = [&](CondVar& cv, int seed) {
    unsigned rng = 2463534242u + static_cast<unsigned>(seed);
    while (!done.load(std::memory_order_relaxed)) {
      rng ^= rng << 13;
      rng ^= rng >> 17;
      rng ^= rng << 5;
      std::unique_lock lk(m);
      if (cv.wait_for(lk, std::chrono::microseconds(rng % 21)) == std::cv_status::no_timeout) {
        // That notification was meant for the producer or the consumer.
        cv.notify_one();
        notified_bystanders.fetch_add(1, std::memory_order_relaxed);
      } else {
        timed_out_bystanders.fetch_add(1, std::memory_order_relaxed);
      }
    }
  };
  std::vector<quanta::JoinHandle<void>> bystanders;
  for (int i = 0; i < 6; ++i)
    bystanders.push_back(rt.spawn([&, i] { bystand(i % 2 ? not_empty : not_full, i); }));
  std::thread kernel_bystander([&] { bystand(not_empty, 99); });

  producer.join();
  const long bad = consumer.join();
  done = true;
  for (auto& h : bystanders) h.join();
  kernel_bystander.join();

  EXPECT_EQ(bad, 0);
  EXPECT_EQ(delivered.load(), kHandoffs);
  EXPECT_GT(timed_out_bystanders.load(), 0);
  // Not asserted, only reported: how often a timed bystander was the one
  // notified (each of these races a timer).
  std::printf("handoffs %ld, bystanders notified %ld, timed out %ld\n", kHandoffs,
              notified_bystanders.load(), timed_out_bystanders.load());
}

TEST_P(CondVarStress, ManyTimedConsumersDrainEveryItem) {
  // Consumers only ever wait with timeouts; a notify_one spent on a waiter
  // that timed out would be made up by the next timeout, so here the check is
  // conservation: every item is consumed exactly once.
  quanta::Config cfg = quanta::test::preemptive(4, 100us);
  cfg.scheduler = GetParam();
  Runtime rt(cfg);
  const long kItems = quanta::test::stress_scaled(200'000, 10'000);
  Mutex m;
  CondVar cv;
  long queued = 0, produced = 0;
  std::atomic<long> consumed{0};
  std::vector<quanta::JoinHandle<void>> hs;
  for (int c = 0; c < 32; ++c) {
    hs.push_back(rt.spawn([&, c] {
      for (;;) {
        std::unique_lock lk(m);
        cv.wait_for(lk, std::chrono::microseconds(1 + c % 7 * 10),
                    [&] { return queued > 0 || produced == kItems; });
        if (queued == 0 && produced == kItems) return;
        if (queued > 0) {
          --queued;
          consumed.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }));
  }
  for (int p = 0; p < 2; ++p) {
    hs.push_back(rt.spawn([&] {
      for (;;) {
        {
          std::lock_guard g(m);
          if (produced == kItems) break;
          ++produced;
          ++queued;
          cv.notify_one();
        }
        quanta::test::burn(300);  // let consumers drain and wait again
      }
      cv.notify_all();
    }));
  }
  for (auto& h : hs) h.join();
  EXPECT_EQ(consumed.load(), kItems);
  EXPECT_EQ(queued, 0);
}

INSTANTIATE_TEST_SUITE_P(Schedulers, CondVarStress,
                         ::testing::Values(SchedulerKind::RoundRobin, SchedulerKind::WorkStealing),
                         [](const auto& info) {
                           return info.param == SchedulerKind::RoundRobin ? "RoundRobin"
                                                                          : "WorkStealing";
                         });

}  // namespace
