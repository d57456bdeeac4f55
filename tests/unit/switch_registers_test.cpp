// The context switch preserves every callee-saved register of the ABI and the
// FP control register, checked by per-ISA assembly (tests/arch/<isa>_regs_check.S)
// and, portably, through <cfenv> across ULT switches.
#include <gtest/gtest.h>

#include <cfenv>
#include <cstdint>
#include <cstring>
#include <memory>

#include "arch/context.h"
#if defined(__x86_64__)
#include "arch/x86_64/frame.h"
#elif defined(__aarch64__)
#include "arch/aarch64/frame.h"
#elif defined(__riscv)
#include "arch/riscv64/frame.h"
#endif
#include "arch/regs_check.h"
#include "test_support.hpp"

extern "C" void quanta_ctx_trampoline();

namespace {

// The frame layout the assembly uses keeps the stack aligned as the ABI wants.
#if defined(__x86_64__)
static_assert((QUANTA_FRAME_SIZE + 8) % 16 == 0, "frame + return address must keep 16-byte alignment");
#else
static_assert(QUANTA_FRAME_SIZE % 16 == 0, "the frame must keep 16-byte alignment");
#endif
static_assert(QUANTA_FRAME_PC % 8 == 0 && QUANTA_FRAME_PC <= QUANTA_FRAME_SIZE);

TEST(SwitchRegisters, FreshFrameResumesInTheTrampoline) {
  alignas(16) static unsigned char stack[4096];
  void* sp = quanta_ctx_make(stack + sizeof stack - 3, quanta_test_clobber_entry, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(sp) % 16, 0u) << "saved stack pointer alignment";
  void* pc;
  std::memcpy(&pc, static_cast<char*>(sp) + QUANTA_FRAME_PC, sizeof pc);
  EXPECT_EQ(pc, reinterpret_cast<void*>(&quanta_ctx_trampoline));
}

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
