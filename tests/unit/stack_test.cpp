// Stacks: per-ULT sizes, reuse from the pool, canary mode, and the mapping
// budget (vm.max_map_count) turning into canary stacks or a clear error.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "stack/stack.hpp"
#include "test_support.hpp"

namespace {

using quanta::Runtime;
using quanta::StackGuard;
using quanta::ThreadBuilder;
using quanta::detail::StackPool;

// Recursion that really uses its stack.
[[gnu::noinline]] long deep(int n) {
  volatile char pad[512];
  pad[0] = 0;
  if (n == 0) return pad[0];
  return deep(n - 1) + 1 + pad[0];
}

TEST(Stack, LargeStackPerUlt) {
  Runtime rt(quanta::test::config(1));
  // ~1 MiB of frames: needs more than the 64 KiB default.
  auto h = ThreadBuilder().stack_size(4 << 20).spawn(rt, [] { return deep(2000); });
  EXPECT_EQ(h.join(), 2000);
}

TEST(Stack, StackSizeIsRoundedToPagesAndReported) {
  Runtime rt(quanta::test::config(1));
  std::size_t got = ThreadBuilder().stack_size(20000).spawn(rt, [] {
                      return quanta::test::current_ult()->stack.size;
                    }).join();
  EXPECT_EQ(got % quanta::detail::page_size(), 0u);
  EXPECT_GE(got, 20000u);
}

TEST(Stack, StacksAreReused) {
  Runtime rt(quanta::test::config(1));
  auto before = StackPool::instance().stats();
  for (int i = 0; i < 2000; ++i) rt.spawn([] { return deep(10); }).join();
  auto after = StackPool::instance().stats();
  // Sequential spawn+join needs a handful of stacks, not 2000.
  EXPECT_LT((after.guarded_live + after.canary_live) - (before.guarded_live + before.canary_live),
            200u);
}

TEST(Stack, CanaryModeRunsNormally) {
  quanta::Config c = quanta::test::config(2);
  c.stack_guard = StackGuard::Canary;
  c.stack_size = 36 * 1024;  // a size no other test uses: fresh canary slabs
  Runtime rt(c);
  std::vector<quanta::JoinHandle<long>> hs;
  for (int i = 0; i < 100; ++i) hs.push_back(rt.spawn([i] { return deep(i % 40); }));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(hs[i].join(), i % 40);
  bool guarded = rt.spawn([] { return quanta::test::current_ult()->stack.guarded; }).join();
  EXPECT_FALSE(guarded);
}

TEST(Stack, AutoFallsBackToCanariesWhenTheMappingBudgetIsUsed) {
  StackPool& pool = StackPool::instance();
  const auto saved = pool.stats().guard_budget;
  pool.set_guard_budget_for_testing(pool.stats().guarded_live);  // no new guarded stacks
  {
    quanta::Config c = quanta::test::config(1);
    c.stack_size = 44 * 1024;  // fresh bucket
    Runtime rt(c);
    bool guarded = rt.spawn([] { return quanta::test::current_ult()->stack.guarded; }).join();
    EXPECT_FALSE(guarded);
  }
  pool.set_guard_budget_for_testing(saved);
}

TEST(Stack, PageModeWithoutBudgetIsAClearError) {
  StackPool& pool = StackPool::instance();
  const auto saved = pool.stats().guard_budget;
  pool.set_guard_budget_for_testing(pool.stats().guarded_live);
  {
    quanta::Config c = quanta::test::config(1);
    c.stack_size = 52 * 1024;  // fresh bucket
    c.stack_guard = StackGuard::Page;
    Runtime rt(c);
    try {
      rt.spawn([] {});
      ADD_FAILURE() << "expected ResourceError";
    } catch (const quanta::ResourceError& e) {
      EXPECT_NE(std::string(e.what()).find("vm.max_map_count"), std::string::npos) << e.what();
    }
  }
  pool.set_guard_budget_for_testing(saved);
}

TEST(Stack, DefaultBudgetFollowsMaxMapCount) {
  unsigned long max_map_count = 0;
  if (FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r")) {
    if (std::fscanf(f, "%lu", &max_map_count) != 1) max_map_count = 0;
    std::fclose(f);
  }
  ASSERT_GT(max_map_count, 0u);
  auto st = StackPool::instance().stats();
  EXPECT_GT(st.guard_budget, 0u);
  EXPECT_LE(st.guard_budget * 2, max_map_count) << "two mappings per guarded stack";
}

}  // namespace
