// Semaphore, WaitGroup, Latch and Barrier with thousands of ULTs on four
// preempted workers, under both schedulers: limits hold, counts come out
// exact, nobody is left waiting. Sizes shrink under ASan and QEMU
// (test_support.hpp, kStressDivisor).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using quanta::Runtime;
using quanta::SchedulerKind;

class SyncManyUlts : public ::testing::TestWithParam<SchedulerKind> {
 protected:
  quanta::Config cfg() const {
    quanta::Config c = quanta::test::preemptive(4, 100us);
    c.scheduler = GetParam();
    return c;
  }
};

TEST_P(SyncManyUlts, SemaphoreLimitsThousandsOfUltsWithTimedAcquires) {
  Runtime rt(cfg());
  constexpr int kLimit = 7;
  quanta::Semaphore s(kLimit, kLimit);
  const int kUlts = static_cast<int>(quanta::test::stress_scaled(4000, 400));
  constexpr int kRounds = 20;
  std::atomic<int> inside{0}, most{0};
  std::atomic<long> entries{0}, timeouts{0};
  std::vector<quanta::JoinHandle<void>> hs;
  for (int i = 0; i < kUlts; ++i) {
    hs.push_back(rt.spawn([&, i] {
      for (int r = 0; r < kRounds; ++r) {
        if (i % 3 == 0) {
          while (!s.try_acquire_for(std::chrono::microseconds(i % 50))) timeouts.fetch_add(1);
        } else {
          s.acquire();
        }
        const int now = inside.fetch_add(1) + 1;
        int m = most.load();
        while (now > m && !most.compare_exchange_weak(m, now)) {
        }
        quanta::test::burn(300);
        inside.fetch_sub(1);
        entries.fetch_add(1);
        s.release();
      }
    }));
  }
  for (auto& h : hs) h.join();
  EXPECT_LE(most.load(), kLimit);
  EXPECT_EQ(entries.load(), long{kUlts} * kRounds);
  EXPECT_EQ(s.available(), kLimit);
}

TEST_P(SyncManyUlts, WaitGroupsOfATreeOfUlts) {
  // Every ULT spawns children, adds them to its own WaitGroup and waits; the
  // leaves count themselves.
  Runtime rt(cfg());
  const int kFanout = 6, kDepth = quanta::test::kStressDivisor > 1 ? 4 : 5;  // 6^5 = 7776 leaves
  std::atomic<long> leaves{0};
  std::function<void(int)> node = [&](int depth) {
    if (depth == kDepth) {
      leaves.fetch_add(1);
      return;
    }
    quanta::WaitGroup wg;
    wg.add(kFanout);
    for (int c = 0; c < kFanout; ++c) {
      quanta::ThreadBuilder()
          .spawn([&, depth] {
            node(depth + 1);
            wg.done();
          })
          .detach();
    }
    wg.wait();
  };
  rt.spawn([&] { node(0); }).join();
  long expect = 1;
  for (int d = 0; d < kDepth; ++d) expect *= kFanout;
  EXPECT_EQ(leaves.load(), expect);
}

TEST_P(SyncManyUlts, LatchesReleaseThousandsOfWaiters) {
  Runtime rt(cfg());
  const int kUlts = static_cast<int>(quanta::test::stress_scaled(5000, 500));
  for (int round = 0; round < 5; ++round) {
    quanta::Latch start(1), arrived(kUlts);
    std::atomic<int> early{0}, passed{0};
    std::vector<quanta::JoinHandle<void>> hs;
    for (int i = 0; i < kUlts; ++i) {
      hs.push_back(rt.spawn([&] {
        start.wait();
        arrived.arrive_and_wait();
        if (!arrived.try_wait()) early.fetch_add(1);
        passed.fetch_add(1);
      }));
    }
    start.count_down();
    for (auto& h : hs) h.join();
    EXPECT_EQ(early.load(), 0);
    EXPECT_EQ(passed.load(), kUlts);
  }
}

TEST_P(SyncManyUlts, BarrierPhasesWithHundredsOfUlts) {
  Runtime rt(cfg());
  const int kUlts = 500;
  const int kPhases = static_cast<int>(quanta::test::stress_scaled(200, 20));
  quanta::Barrier b(kUlts);
  auto arrived = std::make_unique<std::atomic<int>[]>(kPhases);
  std::atomic<int> bad{0}, lasts{0};
  std::vector<quanta::JoinHandle<void>> hs;
  for (int i = 0; i < kUlts; ++i) {
    hs.push_back(rt.spawn([&, i] {
      for (int p = 0; p < kPhases; ++p) {
        arrived[p].fetch_add(1);
        if ((i + p) % 50 == 0) quanta::test::burn(5000);
        if (b.arrive_and_wait()) lasts.fetch_add(1);
        if (arrived[p].load() != kUlts) bad.fetch_add(1);
      }
    }));
  }
  for (auto& h : hs) h.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(lasts.load(), kPhases);
}

INSTANTIATE_TEST_SUITE_P(Schedulers, SyncManyUlts,
                         ::testing::Values(SchedulerKind::RoundRobin, SchedulerKind::WorkStealing),
                         [](const auto& info) {
                           return info.param == SchedulerKind::RoundRobin ? "RoundRobin"
                                                                          : "WorkStealing";
                         });

}  // namespace
