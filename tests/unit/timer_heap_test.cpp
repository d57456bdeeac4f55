// The worker's timer heap: expired timers come out in deadline order, a
// disarmed timer never fires, a timer whose fire callback declines leaves its
// ULT alone, and a timed ULT that arrives through the inbox is disarmed there.
// Exercised on a Worker that never runs (no thread): only the owner-side data
// structures are used.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "core/clock.hpp"
#include "core/worker.hpp"

namespace {

using quanta::detail::Ult;
using quanta::detail::Worker;

struct Bench {
  Worker w{nullptr, 0, 64 * 1024, quanta::StackGuard::Auto};
  std::vector<std::unique_ptr<Ult>> ults;
  Bench() { w.rr_local = true; }
  Ult* make() {
    ults.push_back(std::make_unique<Ult>());
    return ults.back().get();
  }
  std::vector<Ult*> runnable() {
    std::vector<Ult*> out;
    w.take_inbox_and_timers();
    while (Ult* u = w.rq.pop()) out.push_back(u);
    return out;
  }
};

TEST(TimerHeap, ExpiredTimersRunInDeadlineOrderAndDisarmedOnesNever) {
  Bench b;
  std::mt19937 rng(12345);
  const std::int64_t base = quanta::detail::now_ns() - 1'000'000'000;  // all in the past
  std::vector<std::pair<std::int64_t, Ult*>> armed;
  for (int i = 0; i < 500; ++i) {
    Ult* u = b.make();
    const std::int64_t d = base + static_cast<std::int64_t>(rng() % 100000);
    b.w.add_timer(d, u);
    armed.emplace_back(d, u);
  }
  // Disarm every third one, in random order.
  std::vector<Ult*> removed;
  for (std::size_t i = 0; i < armed.size(); i += 3) removed.push_back(armed[i].second);
  std::shuffle(removed.begin(), removed.end(), rng);
  for (Ult* u : removed) {
    ASSERT_GE(u->timer_slot, 0);
    b.w.remove_timer(u);
    EXPECT_EQ(u->timer_slot, -1);
    b.w.remove_timer(u);  // disarming twice is a no-op
  }
  std::vector<std::pair<std::int64_t, Ult*>> expect;
  for (std::size_t i = 0; i < armed.size(); ++i)
    if (i % 3 != 0) expect.push_back(armed[i]);
  std::stable_sort(expect.begin(), expect.end(),
                   [](auto& a, auto& b2) { return a.first < b2.first; });

  std::vector<Ult*> got = b.runnable();
  ASSERT_EQ(got.size(), expect.size());
  std::int64_t prev = INT64_MIN;
  for (Ult* u : got) {
    auto it = std::find_if(armed.begin(), armed.end(), [u](auto& p) { return p.second == u; });
    ASSERT_NE(it, armed.end());
    EXPECT_GE(it->first, prev);
    prev = it->first;
    EXPECT_EQ(u->timer_slot, -1);
    EXPECT_EQ(std::find(removed.begin(), removed.end(), u), removed.end());
  }
  EXPECT_TRUE(b.w.timers.empty());
  EXPECT_EQ(b.w.next_deadline_ns.load(), INT64_MAX);
}

TEST(TimerHeap, FireCallbackDecidesWhetherTheUltRuns) {
  Bench b;
  const std::int64_t past = quanta::detail::now_ns() - 1000;
  auto yes = [](void*, Ult*) noexcept { return true; };
  auto no = [](void* arg, Ult*) noexcept {
    ++*static_cast<int*>(arg);
    return false;
  };
  int declined = 0;
  Ult* a = b.make();
  Ult* c = b.make();
  b.w.add_timer(past, a, yes, nullptr);
  b.w.add_timer(past, c, no, &declined);
  std::vector<Ult*> got = b.runnable();
  EXPECT_EQ(got, std::vector<Ult*>{a});
  EXPECT_EQ(declined, 1);
  EXPECT_EQ(c->timer_slot, -1);
}

TEST(TimerHeap, FutureTimersStayAndTheInboxDisarmsTimedUlts) {
  Bench b;
  const std::int64_t future = quanta::detail::now_ns() + 3'600'000'000'000;  // an hour
  Ult* a = b.make();
  Ult* c = b.make();
  b.w.add_timer(future, a);
  b.w.add_timer(future + 1, c);
  EXPECT_EQ(b.w.next_deadline_ns.load(), future);
  EXPECT_TRUE(b.runnable().empty());
  // `a` was woken elsewhere and sent to the worker holding its timer.
  b.w.inbox.push(a);
  std::vector<Ult*> got = b.runnable();
  EXPECT_EQ(got, std::vector<Ult*>{a});
  EXPECT_EQ(a->timer_slot, -1);
  ASSERT_EQ(b.w.timers.size(), 1u);
  EXPECT_EQ(b.w.timers.front().ult, c);
  EXPECT_EQ(b.w.next_deadline_ns.load(), future + 1);
  b.w.remove_timer(c);
  EXPECT_TRUE(b.w.timers.empty());
}

}  // namespace
