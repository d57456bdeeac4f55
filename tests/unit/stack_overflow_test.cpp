// A ULT that overflows its stack is reported by id, name and stack size, then
// the process aborts: never a silent crash.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <csignal>

#include "test_support.hpp"

namespace {

using quanta::Runtime;
using quanta::ThreadBuilder;

// Recurses until the stack runs out (the volatile bound is never reached,
// but the compiler cannot know that).
volatile int g_never = -1;
[[gnu::noinline]] int recurse_forever(int n) {
  volatile char frame[256];
  frame[0] = static_cast<char>(n);
  if (n == g_never) return 0;
  return recurse_forever(n + 1) + frame[0];
}

class StackOverflowDeathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Fork only, no re-exec: works the same natively and under qemu-user.
    GTEST_FLAG_SET(death_test_style, "fast");
  }
};

TEST_F(StackOverflowDeathTest, GuardPageHitIsReported) {
  EXPECT_DEATH(
      {
        Runtime rt(quanta::test::config(1));
        ThreadBuilder().name("deep").stack_size(64 * 1024).spawn(rt, [] {
          return recurse_forever(0);
        }).join();
      },
      "quanta: stack overflow in ULT [0-9]+ \"deep\" \\(stack 65536 bytes\\)");
}

TEST_F(StackOverflowDeathTest, UnnamedUltIsReportedToo) {
  EXPECT_DEATH(
      {
        Runtime rt(quanta::test::config(2));
        rt.spawn([] { return recurse_forever(0); }).join();
      },
      "quanta: stack overflow in ULT [0-9]+ \"\" \\(stack [0-9]+ bytes\\)");
}

TEST_F(StackOverflowDeathTest, CanaryIsCheckedWhenTheUltSwitchesOut) {
  EXPECT_DEATH(
      {
        quanta::Config c = quanta::test::config(1);
        c.stack_guard = quanta::StackGuard::Canary;
        Runtime rt(c);
        ThreadBuilder().name("scribbler").spawn(rt, [] {
          // What an overflow of a canary stack does to its lowest word.
          auto* u = quanta::test::current_ult();
          *reinterpret_cast<volatile std::uint64_t*>(u->stack.base) = 0;
          quanta::this_thread::yield();
          quanta::this_thread::sleep_for(std::chrono::milliseconds(1));
        }).join();
      },
      "quanta: stack overflow in ULT [0-9]+ \"scribbler\" \\(stack [0-9]+ bytes\\), found by its "
      "canary");
}

TEST(StackOverflow, OtherSegfaultsAreNotReportedAsOverflow) {
  GTEST_FLAG_SET(death_test_style, "fast");
  // Passed on to the previous handler or the default action (killed by
  // SIGSEGV; under AddressSanitizer, its report and exit code), never aborted by
  // the overflow reporter, which would be SIGABRT.
  EXPECT_EXIT(
      {
        Runtime rt(quanta::test::config(1));
        rt.spawn([] {
            volatile int* p = nullptr;
            return *p;
          }).join();
      },
      [](int status) { return !(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT); }, "");
}

}  // namespace
