// The preemption counters add up: every signal that arrives is counted once,
// as taken on the spot, deferred or ignored, so per worker
//   (taken - deferred_taken) + deferred + ignored <= sent
// (the difference being signals the kernel merged or not yet delivered), and
// the per-ULT counters sum to the per-worker ones.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

TEST(PreemptCounters, EverySignalThatArrivesIsCountedOnce) {
  quanta::Runtime rt(quanta::test::preemptive(2, 100us));
  std::atomic<bool> stop{false};
  constexpr int kN = 6;
  std::vector<quanta::PreemptionCounters> per_ult(kN);
  std::vector<quanta::JoinHandle<void>> hs;
  for (int i = 0; i < kN; ++i) {
    hs.push_back(rt.spawn([&, i] {
      // Half the ULTs also spend time where signals are deferred (memset in
      // libc, NoPreempt), so all three outcomes occur.
      char buf[4096];
      while (!stop.load(std::memory_order_relaxed)) {
        if (i % 2) {
          std::memset(buf, i, sizeof buf);
          quanta::NoPreempt np;
          quanta::test::burn(2000);
        } else {
          quanta::test::burn(2000);
        }
      }
      per_ult[i] = quanta::this_thread::preemption_counters();
    }));
  }
  const bool enough = quanta::test::eventually([&] {
    const auto st = quanta::preemption_stats(rt);
    return st.total.taken > 50 && st.total.deferred > 5;
  });
  stop = true;
  for (auto& h : hs) h.join();
  EXPECT_TRUE(enough) << "too few preemptions taken or deferred";

  const auto st = quanta::preemption_stats(rt);
  quanta::PreemptionCounters sum;
  for (std::size_t w = 0; w < st.per_worker.size(); ++w) {
    const auto& c = st.per_worker[w];
    std::printf("worker %zu: sent %llu taken %llu (of which after deferral %llu) deferred %llu "
                "ignored %llu\n",
                w, static_cast<unsigned long long>(c.sent),
                static_cast<unsigned long long>(c.taken),
                static_cast<unsigned long long>(c.deferred_taken),
                static_cast<unsigned long long>(c.deferred),
                static_cast<unsigned long long>(c.ignored));
    EXPECT_LE(c.deferred_taken, c.taken);
    EXPECT_LE(c.deferred_taken, c.deferred);
    EXPECT_LE(c.taken - c.deferred_taken + c.deferred + c.ignored, c.sent)
        << "a signal was counted twice on worker " << w;
    sum.taken += c.taken;
    sum.deferred += c.deferred;
    sum.deferred_taken += c.deferred_taken;
  }
  quanta::PreemptionCounters ults;
  for (const auto& c : per_ult) {
    EXPECT_EQ(c.sent, 0u);
    EXPECT_EQ(c.ignored, 0u);
    ults.taken += c.taken;
    ults.deferred += c.deferred;
    ults.deferred_taken += c.deferred_taken;
  }
  // Only these ULTs ran on the runtime (their counters were read last thing,
  // so a preemption after that read may still have been counted per worker).
  EXPECT_LE(ults.taken, sum.taken);
  EXPECT_LE(ults.deferred, sum.deferred);
  EXPECT_LE(ults.deferred_taken, sum.deferred_taken);
  EXPECT_GT(ults.taken, 0u);
  EXPECT_GT(ults.deferred, 0u);
}

}  // namespace
