// The context switch preserves every callee-saved register of the ABI and the
// FP control register, checked by per-ISA assembly (tests/arch/<isa>_regs_check.S)
// and, portably, through <cfenv> across ULT switches.
#include <gtest/gtest.h>

#include <cfenv>
#include <cstdint>
#include <memory>

#include "arch/context.h"
#include "arch/regs_check.h"
#include "test_support.hpp"

namespace {

TEST(SwitchRegisters, AsmCheckPreservesAllCalleeSavedAndFpControl) {
  constexpr std::size_t kStack = 64 * 1024;
  auto stack = std::make_unique<unsigned char[]>(kStack);
  QuantaClobberArgs args{};
  args.self_sp = quanta_ctx_make(stack.get() + kStack, quanta_test_clobber_entry, &args);
  for (int round = 0; round < 100; ++round) {
    // Saves this context into args.back_sp, runs the clobberer, which
    // scribbles on every callee-saved register and switches back.
    std::uint64_t changed = quanta_test_switch_preserves(&args.back_sp, args.self_sp);
    ASSERT_EQ(changed, 0u) << "bit mask of registers not preserved (see tests/arch/*_regs_check.S)";
  }
  EXPECT_EQ(std::fegetround(), FE_TONEAREST) << "the caller's rounding mode must be restored";
}

TEST(SwitchRegisters, EachUltKeepsItsOwnRoundingMode) {
  quanta::Runtime rt(quanta::test::config(1));
  auto spin = [](int mode) {
    std::fesetround(mode);
    int bad = 0;
    for (int i = 0; i < 10000; ++i) {
      quanta::this_thread::yield();
      if (std::fegetround() != mode) ++bad;
    }
    std::fesetround(FE_TONEAREST);
    return bad;
  };
  auto a = rt.spawn([&] { return spin(FE_UPWARD); });
  auto b = rt.spawn([&] { return spin(FE_DOWNWARD); });
  auto c = rt.spawn([&] { return spin(FE_TOWARDZERO); });
  EXPECT_EQ(a.join(), 0);
  EXPECT_EQ(b.join(), 0);
  EXPECT_EQ(c.join(), 0);
}

TEST(SwitchRegisters, FloatingPointValuesSurviveSwitches) {
  quanta::Runtime rt(quanta::test::config(2));
  auto work = [](double seed) {
    double acc = seed;
    for (int i = 1; i <= 20000; ++i) {
      acc = acc * 1.0000001 + 1.0 / i;
      if (i % 7 == 0) quanta::this_thread::yield();
    }
    return acc;
  };
  double expected[8];
  for (int k = 0; k < 8; ++k) {
    double acc = k;
    for (int i = 1; i <= 20000; ++i) acc = acc * 1.0000001 + 1.0 / i;
    expected[k] = acc;
  }
  std::vector<quanta::JoinHandle<double>> hs;
  for (int k = 0; k < 8; ++k) hs.push_back(rt.spawn([=] { return work(k); }));
  for (int k = 0; k < 8; ++k) EXPECT_EQ(hs[k].join(), expected[k]) << "ULT " << k;
}

}  // namespace
