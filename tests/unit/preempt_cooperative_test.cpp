// No signal at all while ULTs switch more often than the time slice, and none
// when preemption is off; with it off a spinning ULT keeps its worker.
#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "env_var.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

TEST(PreemptCooperative, UltsThatYieldOftenAreNeverSignalled) {
  quanta::Runtime rt(quanta::test::preemptive(2, 1000us));
  std::vector<quanta::JoinHandle<void>> hs;
  for (int i = 0; i < 8; ++i) {
    hs.push_back(rt.spawn([] {
      auto end = std::chrono::steady_clock::now() + 300ms;
      while (std::chrono::steady_clock::now() < end) {
        quanta::test::burn(100);
        quanta::this_thread::yield();
      }
    }));
  }
  for (auto& h : hs) h.join();
  auto st = quanta::preemption_stats(rt);
  EXPECT_EQ(st.total.sent, 0u) << "taken " << st.total.taken << ", deferred " << st.total.deferred
                               << ", ignored " << st.total.ignored;
  EXPECT_EQ(st.total.taken, 0u);
}

TEST(PreemptCooperative, OneSpinnerAloneIsNotSignalled) {
  // Nobody waits for its worker: preempting it would only cost time.
  quanta::Runtime rt(quanta::test::preemptive(1, 200us));
  rt.spawn([] {
      auto end = std::chrono::steady_clock::now() + 100ms;
      while (std::chrono::steady_clock::now() < end) {
      }
    }).join();
  EXPECT_EQ(quanta::preemption_stats(rt).total.sent, 0u);
}

TEST(PreemptOff, SpinningUltKeepsItsWorker) {
  quanta::Config c = quanta::test::config(1, false);
  quanta::Runtime rt(c);
  std::atomic<bool> other_ran{false};
  std::atomic<bool> spinner_started{false};
  auto spinner = rt.spawn([&] {
    spinner_started = true;
    auto end = std::chrono::steady_clock::now() + 50ms;
    bool seen = false;
    while (std::chrono::steady_clock::now() < end) seen |= other_ran.load();
    return seen;
  });
  ASSERT_TRUE(quanta::test::eventually([&] { return spinner_started.load(); }));
  auto other = rt.spawn([&] { other_ran = true; });
  EXPECT_FALSE(spinner.join()) << "without preemption nothing may run while the spinner spins";
  other.join();
  EXPECT_TRUE(other_ran.load());
  EXPECT_EQ(quanta::preemption_stats(rt).total.sent, 0u);
}

TEST(PreemptOff, EnvironmentSwitchesItOff) {
  quanta::test::EnvVar off("QUANTA_PREEMPT", "off");
  quanta::Config c = quanta::Config::from_env();
  EXPECT_FALSE(c.preempt);
}

}  // namespace
