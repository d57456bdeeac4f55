// UltLocal<T>: one value per ULT that follows it across switches and
// migrations, destroyed when the ULT finishes; kernel threads get their own.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

std::atomic<int> g_live{0};
struct Counted {
  Counted() { g_live.fetch_add(1); }
  ~Counted() { g_live.fetch_sub(1); }
  long value = 0;
};

quanta::UltLocal<Counted> g_local;
quanta::UltLocal<long> g_other;

TEST(UltLocal, EachUltHasItsOwnValueAcrossYields) {
  quanta::Runtime rt(quanta::test::config(2));
  std::vector<quanta::JoinHandle<long>> hs;
  for (int u = 0; u < 20; ++u) {
    hs.push_back(rt.spawn([u] {
      for (int i = 0; i < 100; ++i) {
        g_local->value += u;
        ++*g_other;
        quanta::this_thread::yield();
      }
      return g_local->value * 1000 + *g_other;
    }));
  }
  for (int u = 0; u < 20; ++u) EXPECT_EQ(hs[u].join(), 100L * u * 1000 + 100);
  EXPECT_EQ(g_live.load(), 0) << "values are destroyed when their ULT finishes";
}

TEST(UltLocal, FollowsAUltThatIsPreemptedOntoAnotherWorker) {
  quanta::Runtime rt(quanta::test::preemptive(2, 100us));
  rt.impl().preempt_migrate_for_testing = true;
  std::vector<quanta::JoinHandle<std::pair<long, std::size_t>>> hs;
  for (int u = 0; u < 4; ++u) {
    hs.push_back(rt.spawn([u] {
      std::set<unsigned> seen;
      Counted& mine = g_local.get();
      for (int i = 0; i < 3000; ++i) {
        quanta::test::burn(50000);
        if (&g_local.get() != &mine) return std::make_pair(-1L, seen.size());
        mine.value += u;
        quanta::NoPreempt scope;
        seen.insert(quanta::test::worker_index());
      }
      return std::make_pair(mine.value, seen.size());
    }));
  }
  std::size_t moved = 0;
  for (int u = 0; u < 4; ++u) {
    auto [v, workers] = hs[u].join();
    EXPECT_EQ(v, 3000L * u);
    if (workers > 1) ++moved;
  }
  EXPECT_GT(moved, 0u) << "no ULT migrated: the test did not test anything";
  EXPECT_EQ(g_live.load(), 0);
}

TEST(UltLocal, KernelThreadsHaveTheirOwn) {
  g_local->value = 7;
  long other_thread = -1;
  std::thread([&] { other_thread = g_local->value; }).join();
  EXPECT_EQ(other_thread, 0);
  EXPECT_EQ(g_local->value, 7);
}

}  // namespace
