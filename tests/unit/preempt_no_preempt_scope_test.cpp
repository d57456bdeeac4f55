// NoPreempt scopes are never preempted; the deferred preemption is taken when
// the outermost scope ends.
#include <gtest/gtest.h>

#include <atomic>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

// Spins in user code (not in libc) for about `d`.
void spin_for(std::chrono::microseconds d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
    quanta::test::burn(2000);
  }
}

TEST(PreemptNoPreemptScope, ScopeIsNeverPreempted) {
  quanta::Runtime rt(quanta::test::preemptive(1, 100us));
  std::atomic<long> other{0};
  std::atomic<bool> stop{false};
  auto other_ult = rt.spawn([&] {
    while (!stop.load()) other.fetch_add(1);
  });
  auto guarded = rt.spawn([&] {
    long violations = 0;
    std::uint64_t deferred = 0;
    for (int round = 0; round < 20; ++round) {
      quanta::NoPreempt outer;
      const auto before = quanta::this_thread::preemption_counters();
      const long other_before = other.load();
      {
        quanta::NoPreempt inner;  // nesting
        spin_for(600us);
      }
      spin_for(600us);
      const auto after = quanta::this_thread::preemption_counters();
      if (after.taken != before.taken || other.load() != other_before) ++violations;
      deferred += after.deferred - before.deferred;
    }
    return std::make_pair(violations, deferred);
  });
  auto [violations, deferred] = guarded.join();
  stop = true;
  other_ult.join();
  EXPECT_EQ(violations, 0) << "a NoPreempt scope was preempted";
  EXPECT_GT(deferred, 0u) << "signals should have arrived and been deferred";
}

TEST(PreemptNoPreemptScope, DeferredPreemptionIsTakenAtScopeEnd) {
  quanta::Runtime rt(quanta::test::preemptive(1, 100us));
  std::atomic<bool> stop{false};
  std::atomic<long> other{0};
  auto other_ult = rt.spawn([&] {
    while (!stop.load()) other.fetch_add(1);
  });
  auto guarded = rt.spawn([&] {
    int taken_at_exit = 0;
    for (int round = 0; round < 20; ++round) {
      std::uint64_t before;
      {
        quanta::NoPreempt scope;
        spin_for(1000us);
        before = quanta::this_thread::preemption_counters().taken;
      }  // a pending preemption is taken here
      if (quanta::this_thread::preemption_counters().taken > before) ++taken_at_exit;
    }
    return taken_at_exit;
  });
  int taken_at_exit = guarded.join();
  stop = true;
  other_ult.join();
  EXPECT_GT(taken_at_exit, 0);
}

TEST(PreemptNoPreemptScope, UsableOnKernelThreads) {
  quanta::NoPreempt scope;  // no ULT: does nothing
  SUCCEED();
}

}  // namespace
