// Preemption keeps the full register and vector state: ULTs doing float and
// SIMD arithmetic across thousands of preemptions get bit-exact results.
#include <gtest/gtest.h>

#include <cfenv>
#include <cstdint>
#include <cstring>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

typedef double v4d __attribute__((vector_size(32)));
typedef float v8f __attribute__((vector_size(32)));

struct Result {
  double scalar;
  v4d vec;
  v8f fvec;
};

// Long arithmetic whose every intermediate lives in FP / vector registers.
[[gnu::noinline]] Result crunch(int seed, long iters) {
  double x = seed * 0.5 + 1.0;
  v4d v = {1.0 + seed, 2.0, 3.0, 4.0};
  v8f f = {1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f, static_cast<float>(seed)};
  const v4d m = {1.0000001, 0.9999999, 1.0000002, 0.9999998};
  const v8f g = {1.0001f, 0.9999f, 1.0002f, 0.9998f, 1.0003f, 0.9997f, 1.0f, 1.00001f};
  for (long i = 0; i < iters; ++i) {
    x = x * 1.0000001 + 1.0 / (i + 1.0);
    v = v * m + x * 1e-9;
    f = f * g + 0.5f;
    if ((i & 0xffff) == 0) f = f * 0.001f;
  }
  return {x, v, f};
}

bool same(const Result& a, const Result& b) {
  return std::memcmp(&a.scalar, &b.scalar, sizeof a.scalar) == 0 &&
         std::memcmp(&a.vec, &b.vec, sizeof a.vec) == 0 &&
         std::memcmp(&a.fvec, &b.fvec, sizeof a.fvec) == 0;
}

TEST(PreemptFpState, BitExactAcrossThousandsOfPreemptions) {
  constexpr int kUlts = 6;
  constexpr long kIters = 6'000'000;
  std::vector<Result> expected;
  for (int s = 0; s < kUlts; ++s) expected.push_back(crunch(s, kIters));

  quanta::Runtime rt(quanta::test::preemptive(2, 100us));
  std::vector<quanta::JoinHandle<std::pair<Result, quanta::PreemptionCounters>>> hs;
  for (int s = 0; s < kUlts; ++s) {
    hs.push_back(rt.spawn([s] {
      Result r = crunch(s, kIters);
      return std::make_pair(r, quanta::this_thread::preemption_counters());
    }));
  }
  std::uint64_t taken = 0;
  for (int s = 0; s < kUlts; ++s) {
    auto [r, c] = hs[s].join();
    EXPECT_TRUE(same(r, expected[s])) << "ULT " << s << " computed a different result";
    taken += c.taken;
  }
  std::printf("preemptions taken by the crunching ULTs: %llu\n",
              static_cast<unsigned long long>(taken));
  EXPECT_GT(taken, 100u) << "the test needs many preemptions to mean anything";
}

TEST(PreemptFpState, RoundingModeSurvivesPreemption) {
  quanta::Runtime rt(quanta::test::preemptive(1, 100us));
  auto spin = [](int mode) {
    std::fesetround(mode);
    long bad = 0;
    auto end = std::chrono::steady_clock::now() + 300ms;
    while (std::chrono::steady_clock::now() < end) {
      quanta::test::burn(5000);  // mostly in this file: preemptible
      if (std::fegetround() != mode) ++bad;
    }
    std::fesetround(FE_TONEAREST);
    return std::make_pair(bad, quanta::this_thread::preemption_counters().taken);
  };
  auto a = rt.spawn([&] { return spin(FE_UPWARD); });
  auto b = rt.spawn([&] { return spin(FE_DOWNWARD); });
  auto ra = a.join();
  auto rb = b.join();
  EXPECT_EQ(ra.first, 0);
  EXPECT_EQ(rb.first, 0);
  EXPECT_GT(ra.second + rb.second, 0u);
}

}  // namespace
