// tune::calibrate: every figure is a positive, finite number (no timing
// asserts: the machine is shared), and it refuses to run on a ULT.
#include <gtest/gtest.h>

#include <cmath>

#include "test_support.hpp"

namespace {

TEST(TuneCalibrate, FiguresArePositiveAndFinite) {
  const quanta::tune::Calibration c = quanta::tune::calibrate();
  for (double v : {c.switch_ns, c.spawn_join_ns, c.wake_ns, c.seconds}) {
    EXPECT_TRUE(std::isfinite(v)) << v;
    EXPECT_GT(v, 0) << v;
  }
  if (c.preemptions > 0) {
    EXPECT_TRUE(std::isfinite(c.preempt_ns)) << c.preempt_ns;
    EXPECT_GT(c.preempt_ns, 0);
  }
#ifndef QUANTA_TESTS_EMULATED
  // Natively two spinners on one worker with a 100 us slice are preempted.
  EXPECT_GT(c.signals_sent, 0u);
  EXPECT_GT(c.preemptions, 0u);
#endif
  const auto r = quanta::tune::recommend(c, quanta::topology());
  EXPECT_NO_THROW(r.apply().validate());
}

TEST(TuneCalibrate, FromAUltIsAUsageError) {
  quanta::Runtime rt(quanta::test::config(1));
  bool threw = false;
  rt.spawn([&] {
      try {
        quanta::tune::calibrate();
      } catch (const quanta::UsageError&) {
        threw = true;
      }
    }).join();
  EXPECT_TRUE(threw);
}

}  // namespace
