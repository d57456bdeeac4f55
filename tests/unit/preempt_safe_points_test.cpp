// Preemption only switches at safe points: a ULT that spends its time inside
// libc is not switched there (the signal is deferred and taken later, in the
// application's code), and allow_preemption_in() validates its argument.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

TEST(PreemptSafePoints, UltInsideLibcIsDeferredNotStarvingOthers) {
  quanta::Runtime rt(quanta::test::preemptive(1, 100us));
  std::atomic<bool> stop{false};
  std::atomic<long> other{0};
  auto libc_heavy = rt.spawn([&] {
    std::vector<char> buf(256 << 10);
    long rounds = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      // Half of the time in libc (not preemptible), half in this file.
      std::memset(buf.data(), static_cast<int>(rounds), buf.size());
      quanta::test::burn(20000);
      ++rounds;
    }
    return quanta::this_thread::preemption_counters();
  });
  auto other_ult = rt.spawn([&] {
    while (!stop.load(std::memory_order_relaxed)) other.fetch_add(1);
  });
  bool progressed = quanta::test::eventually([&] { return other.load() > 1000; });
  std::this_thread::sleep_for(500ms);  // many slices: signals land in memset too
  stop = true;
  auto c = libc_heavy.join();
  other_ult.join();
  EXPECT_TRUE(progressed) << "the other ULT never got the worker";
  std::printf("ULT half in memset: preemptions taken %llu, deferred %llu\n",
              static_cast<unsigned long long>(c.taken), static_cast<unsigned long long>(c.deferred));
  EXPECT_GT(c.deferred, 0u) << "signals landing in memset must be deferred";
  EXPECT_GT(c.taken, 0u) << "deferred preemptions must still be taken in the application's code";
}

TEST(PreemptSafePoints, AllowPreemptionInNeedsAMatchingObject) {
  EXPECT_THROW(quanta::allow_preemption_in("no-such-object-in-this-process.so"), quanta::ConfigError);
  EXPECT_THROW(quanta::allow_preemption_in(""), quanta::ConfigError);
  EXPECT_GE(quanta::allow_preemption_in("libc.so"), 1u);
}

}  // namespace
