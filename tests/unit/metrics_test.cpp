// Counters add up, the switch-latency histogram computes the right
// percentiles, and SystemMetrics / schedtrace report the runtime's state.
#include <gtest/gtest.h>

#include <cstdlib>
#include <quanta/metrics.hpp>
#include <string>

#include "core/runtime_core.hpp"
#include "metrics/histogram.hpp"
#include "metrics/schedtrace.hpp"
#include "env_var.hpp"
#include "test_support.hpp"

namespace {

using quanta::detail::LatencyHistogram;
using namespace std::chrono_literals;

TEST(LatencyHistogram, EveryValueFallsInsideItsBucket) {
  for (std::uint64_t v : {0ull, 1ull, 7ull, 8ull, 9ull, 15ull, 16ull, 17ull, 100ull, 1000ull,
                          123456789ull, (1ull << 40) + 12345, ~0ull}) {
    const unsigned b = LatencyHistogram::bucket_of(v);
    ASSERT_LT(b, LatencyHistogram::kBuckets) << v;
    if (v == ~0ull) {
      EXPECT_EQ(b, LatencyHistogram::kBuckets - 1);
    }
    EXPECT_LE(LatencyHistogram::lower(b), v) << v;
    if (v != ~0ull) {
      EXPECT_LT(v, LatencyHistogram::upper(b)) << v;
    }
  }
  // Buckets are contiguous and increasing.
  for (unsigned b = 1; b < LatencyHistogram::kBuckets; ++b)
    EXPECT_EQ(LatencyHistogram::upper(b - 1), LatencyHistogram::lower(b)) << b;
}

TEST(LatencyHistogram, PercentilesOfSyntheticInput) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 1000; ++v) h.add(v);
  const auto s = h.snapshot();
  EXPECT_EQ(s.count, 1000u);
  EXPECT_DOUBLE_EQ(s.mean(), 500.5);
  // Within half a bucket: 1/16 of the value.
  EXPECT_NEAR(s.percentile(0.50), 500, 500 / 16.0);
  EXPECT_NEAR(s.percentile(0.99), 990, 990 / 16.0);
  EXPECT_DOUBLE_EQ(s.percentile(0.0), 1.5);  // the tick [1, 2)
  EXPECT_NEAR(s.percentile(1.0), 1000, 1000 / 16.0);

  // Skewed: 99 fast samples and one slow one.
  LatencyHistogram k;
  for (int i = 0; i < 990; ++i) k.add(40);
  for (int i = 0; i < 10; ++i) k.add(100000);
  const auto t = k.snapshot();
  EXPECT_NEAR(t.percentile(0.50), 40, 40 / 16.0);
  EXPECT_NEAR(t.percentile(0.99), 40, 40 / 16.0);
  EXPECT_NEAR(t.percentile(0.995), 100000, 100000 / 16.0);
  EXPECT_DOUBLE_EQ(t.mean(), (990 * 40 + 10 * 100000) / 1000.0);

  LatencyHistogram empty;
  EXPECT_EQ(empty.snapshot().percentile(0.5), 0.0);
  EXPECT_EQ(empty.snapshot().mean(), 0.0);
}

quanta::WorkerMetrics worker0(const quanta::Runtime& rt) {
  return quanta::SystemMetrics::of(rt).workers.at(0);
}

TEST(Metrics, CountedYieldsAreTheYieldsThatSwitched) {
  quanta::Runtime rt(quanta::test::config(1));
  const auto before = worker0(rt);
  constexpr int kRounds = 5000;
  std::uint64_t last = 0;  // one worker: plain variables are enough
  long switched = 0;
  quanta::Latch both(2);  // both runnable before the yields start
  auto body = [&](std::uint64_t me) {
    both.arrive_and_wait();
    for (int i = 0; i < kRounds; ++i) {
      last = me;
      quanta::this_thread::yield();
      if (last != me) ++switched;  // the other one ran in between
    }
    last = me;  // what runs after the other's last yield writes too
  };
  auto a = rt.spawn([&] { body(1); });
  auto b = rt.spawn([&] { body(2); });
  a.join();
  b.join();
  const auto after = worker0(rt);
  EXPECT_EQ(static_cast<long>(after.yields - before.yields), switched);
  EXPECT_GT(switched, 0);
  EXPECT_GE(after.switches - before.switches, after.yields - before.yields);
}

TEST(Metrics, SpawnsAndFinishesAreCountedOnTheWorker) {
  quanta::Runtime rt(quanta::test::config(1));
  const auto before = worker0(rt);
  constexpr int kChildren = 100;
  rt.spawn([&] {
      std::vector<quanta::JoinHandle<void>> v;
      for (int i = 0; i < kChildren; ++i) v.push_back(quanta::ThreadBuilder().spawn([] {}));
      for (auto& h : v) h.join();
    }).join();
  // The parent's end is counted just after join returns here: wait for it.
  ASSERT_TRUE(quanta::test::eventually(
      [&] { return worker0(rt).finished - before.finished == kChildren + 1; }));
  const auto after = worker0(rt);
  EXPECT_EQ(after.spawns - before.spawns, static_cast<std::uint64_t>(kChildren));
  EXPECT_EQ(after.finished - before.finished, static_cast<std::uint64_t>(kChildren + 1));
}

TEST(Metrics, ContextSwitchStatsSampleTheSwitches) {
  quanta::Config cfg = quanta::test::config(1);
  cfg.switch_target = 250ns;
  quanta::Runtime rt(cfg);
  quanta::Latch both(2);  // both runnable before the yields start
  auto spin = [&] {
    both.arrive_and_wait();
    for (int i = 0; i < 20000; ++i) quanta::this_thread::yield();
  };
  auto a = rt.spawn(spin);
  auto b = rt.spawn(spin);
  a.join();
  b.join();
  const quanta::ContextSwitchStats st = quanta::context_switch_stats(rt);
  EXPECT_GE(st.switches, 20000u);
  // One switch in 32 is measured.
  EXPECT_GT(st.samples, st.switches / 64);
  EXPECT_LE(st.samples, st.switches / 16 + 1);
  EXPECT_GT(st.average_switch_time_ns, 0.0);
  EXPECT_GT(st.p50_ns, 0.0);  // at least half a tick
  EXPECT_GT(st.tick_ns, 0.0);
  EXPECT_LE(st.p50_ns, st.p99_ns);
  EXPECT_EQ(st.target_ns, 250.0);
  EXPECT_EQ(st.meets_target, st.p50_ns <= 250.0);

  // The process-wide view includes this runtime.
  const quanta::ContextSwitchStats all = quanta::context_switch_stats();
  EXPECT_GE(all.switches, st.switches);
  EXPECT_GE(all.samples, st.samples);
}

TEST(Metrics, NoRuntimeMeansNoStats) {
  const quanta::ContextSwitchStats st = quanta::context_switch_stats();
  EXPECT_EQ(st.switches, 0u);
  EXPECT_EQ(st.samples, 0u);
  EXPECT_FALSE(st.meets_target);
  const quanta::SystemMetrics m = quanta::SystemMetrics::current();
  EXPECT_TRUE(m.workers.empty());
  EXPECT_EQ(m.live_ults, 0u);
}

TEST(Metrics, SystemMetricsSeeBlockedUltsAndIdleWorkers) {
  quanta::Runtime rt(quanta::test::config(2));
  quanta::Semaphore gate(0);
  auto blocked = rt.spawn([&] { gate.acquire(); });
  ASSERT_TRUE(quanta::test::eventually([&] {
    const auto m = quanta::SystemMetrics::of(rt);
    return m.live_ults == 1 && m.workers_busy == 0 && m.runnable == 0;
  }));
  const quanta::SystemMetrics m = quanta::SystemMetrics::current();
  EXPECT_EQ(m.workers.size(), 2u);
  EXPECT_EQ(m.workers_busy + m.workers_idle, 2u);
  EXPECT_GT(m.stack_bytes, 0u);
  EXPECT_GT(m.rss_bytes, 0u);
  gate.release();
  blocked.join();
  ASSERT_TRUE(quanta::test::eventually(
      [&] { return quanta::SystemMetrics::of(rt).live_ults == 0; }));
}

TEST(Metrics, RunQueuesShowWaitingUlts) {
  quanta::Runtime rt(quanta::test::round_robin(1));
  std::atomic<bool> release{false};
  std::atomic<bool> seen{false};
  // One ULT holds the worker while the 5 it spawned wait behind it; the
  // main thread reads the metrics meanwhile.
  auto holder = rt.spawn([&] {
    std::vector<quanta::JoinHandle<void>> waiting;
    for (int i = 0; i < 5; ++i) waiting.push_back(quanta::ThreadBuilder().spawn([] {}));
    while (!release.load()) {
    }
    for (auto& h : waiting) h.join();
  });
  seen = quanta::test::eventually([&] {
    const auto m = quanta::SystemMetrics::of(rt);
    return m.runnable == 5 && m.workers_busy == 1 && m.workers[0].run_queue == 5;
  });
  release = true;
  holder.join();
  EXPECT_TRUE(seen.load());
}

TEST(SchedTrace, OneLineOfStateAndRates) {
  quanta::Runtime rt(quanta::test::config(2));
  auto& core = rt.impl();
  quanta::detail::SchedTotals before;
  quanta::detail::SchedTotals now;
  now.switches = 3000;
  now.preemptions = 10;
  const std::string line = quanta::detail::schedtrace_line(core, 1'500'000'000, before, now,
                                                           500'000'000);
  EXPECT_EQ(line.rfind("quanta-sched 1500ms: workers=2 ", 0), 0u) << line;
  EXPECT_NE(line.find("switches/s=6000 "), std::string::npos) << line;
  EXPECT_NE(line.find("preemptions/s=20 "), std::string::npos) << line;
  EXPECT_NE(line.find("runnable=0 [0 0] shared=0"), std::string::npos) << line;
}

TEST(SchedTrace, PrintsLinesAtTheInterval) {
  quanta::Config cfg = quanta::test::config(1);
  cfg.schedtrace = 2ms;
  testing::internal::CaptureStderr();
  {
    quanta::Runtime rt(cfg);
    EXPECT_TRUE(quanta::test::eventually([&] { return rt.impl().schedtrace->lines() >= 3; }));
  }
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find("quanta-sched "), std::string::npos) << out;
  EXPECT_NE(out.find(" workers=1 "), std::string::npos) << out;
}

TEST(SchedTrace, EnvironmentSetsTheInterval) {
  {
    quanta::test::EnvVar interval("QUANTA_SCHEDTRACE", "250");
    quanta::test::EnvVar target("QUANTA_SWITCH_TARGET_NS", "80");
    const quanta::Config c = quanta::Config::from_env();
    EXPECT_EQ(c.schedtrace, 250ms);
    EXPECT_EQ(c.switch_target, 80ns);
  }
  {
    quanta::test::EnvVar interval("QUANTA_SCHEDTRACE", "soon");
    try {
      (void)quanta::Config::from_env();
      ADD_FAILURE() << "expected ConfigError";
    } catch (const quanta::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("QUANTA_SCHEDTRACE"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("soon"), std::string::npos) << e.what();
    }
  }
  quanta::Config bad;
  bad.switch_target = 0ns;
  EXPECT_THROW(bad.validate(), quanta::ConfigError);
}

}  // namespace
