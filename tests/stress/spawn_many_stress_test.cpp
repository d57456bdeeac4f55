// Many ULTs: 100k spawned and joined with the right results, from a kernel
// thread and from ULTs, with randomised yields and sleeps.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <vector>

#include "test_support.hpp"

namespace {

using quanta::JoinHandle;
using quanta::Runtime;

TEST(SpawnMany, HundredThousandFromAKernelThread) {
  Runtime rt(quanta::test::config(2));
  constexpr int kN = 100'000;
  std::vector<JoinHandle<long>> hs;
  hs.reserve(kN);
  for (int i = 0; i < kN; ++i) hs.push_back(rt.spawn([i] { return 2L * i + 1; }));
  long bad = 0;
  for (int i = 0; i < kN; ++i) bad += hs[i].join() != 2L * i + 1;
  EXPECT_EQ(bad, 0);
}

TEST(SpawnMany, HundredThousandFromUlts) {
  Runtime rt(quanta::test::config(2));
  constexpr int kParents = 100, kChildren = 1000;
  std::vector<JoinHandle<long>> parents;
  for (int p = 0; p < kParents; ++p) {
    parents.push_back(rt.spawn([p] {
      std::vector<JoinHandle<long>> kids;
      kids.reserve(kChildren);
      for (int c = 0; c < kChildren; ++c) kids.push_back(quanta::ThreadBuilder().spawn([p, c] {
        return static_cast<long>(p) * kChildren + c;
      }));
      long sum = 0;
      for (auto& k : kids) sum += k.join();
      return sum;
    }));
  }
  long total = 0;
  for (auto& h : parents) total += h.join();
  const long n = static_cast<long>(kParents) * kChildren;
  EXPECT_EQ(total, n * (n - 1) / 2);
}

class SpawnRandomised : public ::testing::TestWithParam<int> {};

TEST_P(SpawnRandomised, EveryUltRunsExactlyOnce) {
  const int seed = GetParam();
  Runtime rt(quanta::test::config(1 + seed % 3));
  constexpr int kN = 3000;
  std::vector<std::atomic<int>> runs(kN);
  std::vector<JoinHandle<void>> hs;
  for (int i = 0; i < kN; ++i) {
    hs.push_back(rt.spawn([&runs, i, seed] {
      std::minstd_rand rng(seed * 7919 + i);
      int yields = static_cast<int>(rng() % 4);
      for (int y = 0; y < yields; ++y) quanta::this_thread::yield();
      if (rng() % 50 == 0) quanta::this_thread::sleep_for(std::chrono::microseconds(rng() % 500));
      runs[i].fetch_add(1);
    }));
  }
  for (auto& h : hs) h.join();
  for (int i = 0; i < kN; ++i) ASSERT_EQ(runs[i].load(), 1) << "ULT " << i;
}

INSTANTIATE_TEST_SUITE_P(Seeds, SpawnRandomised, ::testing::Range(0, 8));

}  // namespace
