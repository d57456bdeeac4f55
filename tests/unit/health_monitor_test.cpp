// HealthMonitor reports each threshold when it is exceeded and not otherwise;
// its thread calls the callback, and without one it warns on stderr.
//
// The checks are made with check() on a monitor whose thread never samples
// (a one-hour interval), so the test decides what each check covers.
#include <gtest/gtest.h>

#include <quanta/health.hpp>
#include <string>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using quanta::HealthEvent;
using quanta::HealthIssue;
using quanta::HealthMonitor;
using quanta::HealthThresholds;

constexpr auto kNever = 1h;  // the thread does not sample during the test

bool has(const std::vector<HealthEvent>& evs, HealthIssue issue) {
  for (const auto& e : evs)
    if (e.issue == issue) return true;
  return false;
}

// A ULT that holds the only worker of a cooperative round-robin runtime,
// spinning, while the `waiting` ULTs it spawned wait in that worker's queue.
// Released (and joined) when the object goes away, on every path out of a
// test, so a failed assertion cannot leave the runtime waiting for it.
class Holder {
 public:
  Holder(quanta::Runtime& rt, int waiting) {
    handle_ = rt.spawn([this, waiting] {
      std::vector<quanta::JoinHandle<void>> v;
      for (int i = 0; i < waiting; ++i) v.push_back(quanta::ThreadBuilder().spawn([] {}));
      started_.store(true);
      while (!release_.load(std::memory_order_relaxed)) quanta::test::burn(100);
      for (auto& h : v) h.join();
    });
  }
  ~Holder() { release(); }
  void release() {
    release_.store(true);
    if (handle_.joinable()) handle_.join();
  }
  bool started() const { return started_.load(); }

 private:
  std::atomic<bool> release_{false};
  std::atomic<bool> started_{false};
  quanta::JoinHandle<void> handle_;
};

TEST(HealthMonitor, RunQueueFiresAboveTheThresholdOnly) {
  quanta::Runtime rt(quanta::test::round_robin(1));
  Holder holder(rt, 10);
  ASSERT_TRUE(quanta::test::eventually(
      [&] { return holder.started() && quanta::SystemMetrics::of(rt).runnable == 10; }));
  HealthThresholds low;
  low.max_run_queue = 5;
  HealthThresholds high;
  high.max_run_queue = 100;
  std::vector<HealthEvent> seen;
  HealthMonitor fires(rt, low, kNever, [&](const HealthEvent& e) { seen.push_back(e); });
  HealthMonitor quiet(rt, high, kNever, [&](const HealthEvent& e) { seen.push_back(e); });
  const auto evs = fires.check();
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].issue, HealthIssue::RunQueue);
  EXPECT_EQ(evs[0].value, 10.0);
  EXPECT_EQ(evs[0].threshold, 5.0);
  EXPECT_EQ(evs[0].metrics.runnable, 10u);
  EXPECT_NE(evs[0].message.find("quanta: health: run queue: 10 ULTs waiting exceed the "
                                "threshold 5 (worker 0: 10, shared: 0)"),
            std::string::npos)
      << evs[0].message;
  ASSERT_EQ(seen.size(), 1u);  // the callback got it too
  EXPECT_EQ(seen[0].message, evs[0].message);
  EXPECT_TRUE(quiet.check().empty());
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_EQ(fires.samples(), 1u);
  EXPECT_EQ(fires.events(), 1u);
  EXPECT_EQ(quiet.events(), 0u);
}

TEST(HealthMonitor, StarvationFiresForAWorkerHeldByOneUlt) {
  quanta::Runtime rt(quanta::test::round_robin(1));  // no preemption
  Holder holder(rt, 10);
  ASSERT_TRUE(quanta::test::eventually(
      [&] { return holder.started() && quanta::SystemMetrics::of(rt).runnable == 10; }));
  HealthThresholds t;
  t.starving_slices = 2;
  HealthMonitor mon(rt, t, kNever, [](const HealthEvent&) {});
  // The first check starts the stall; a later one, 2 slices on, reports it.
  std::vector<HealthEvent> evs;
  ASSERT_TRUE(quanta::test::eventually([&] {
    evs = mon.check();
    return !evs.empty();
  }));
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].issue, HealthIssue::Starvation);
  EXPECT_GT(evs[0].value, 2.0);
  EXPECT_EQ(evs[0].threshold, 2.0);
  EXPECT_NE(evs[0].message.find("worker 0 (10 queued, running one ULT)"), std::string::npos)
      << evs[0].message;
  EXPECT_GE(mon.samples(), 2u);
}

TEST(HealthMonitor, NoStarvationWhileTheQueuedUltsRun) {
  quanta::Runtime rt(quanta::test::round_robin(1));
  HealthThresholds t;
  t.starving_slices = 1;
  t.max_run_queue = 1000;
  HealthMonitor mon(rt, t, kNever, [](const HealthEvent&) {});
  // Yielding ULTs keep the queue non-empty, but the worker switches.
  std::atomic<bool> stop{false};
  std::vector<quanta::JoinHandle<void>> hs;
  for (int i = 0; i < 3; ++i)
    hs.push_back(rt.spawn([&] {
      while (!stop.load(std::memory_order_relaxed)) quanta::this_thread::yield();
    }));
  struct Stop {
    std::atomic<bool>& s;
    std::vector<quanta::JoinHandle<void>>& hs;
    ~Stop() {
      s.store(true);
      for (auto& h : hs) h.join();
    }
  } stopper{stop, hs};
  // Checks spread over at least 20 switches apiece.
  for (int i = 0; i < 20; ++i) {
    const std::uint64_t before = quanta::SystemMetrics::of(rt).total_switches;
    ASSERT_TRUE(quanta::test::eventually(
        [&] { return quanta::SystemMetrics::of(rt).total_switches > before + 20; }));
    EXPECT_FALSE(has(mon.check(), HealthIssue::Starvation));
  }
  EXPECT_EQ(mon.samples(), 20u);
}

TEST(HealthMonitor, SwitchTimeFiresAboveTheThresholdOnly) {
  quanta::Runtime rt(quanta::test::config(1));
  HealthThresholds tiny;
  tiny.max_switch_time = 1ns;
  HealthThresholds huge;
  huge.max_switch_time = 1s;
  HealthMonitor fires(rt, tiny, kNever, [](const HealthEvent&) {});
  HealthMonitor quiet(rt, huge, kNever, [](const HealthEvent&) {});
  // Too few samples yet: nothing is evaluated.
  EXPECT_TRUE(fires.check().empty());
  quanta::Latch both(2);
  auto yielder = [&] {
    both.arrive_and_wait();
    for (int i = 0; i < 2000; ++i) quanta::this_thread::yield();
  };
  auto a = rt.spawn(yielder);
  auto b = rt.spawn(yielder);
  a.join();
  b.join();
  const auto evs = fires.check();
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].issue, HealthIssue::SwitchTime);
  EXPECT_GT(evs[0].value, 1.0);  // at least half a tick, which is above 1 ns
  EXPECT_EQ(evs[0].threshold, 1.0);
  EXPECT_NE(evs[0].message.find("quanta: health: switch time: p99 "), std::string::npos)
      << evs[0].message;
  EXPECT_TRUE(quiet.check().empty());
  // The samples are used up: the next check waits for new ones.
  EXPECT_TRUE(fires.check().empty());
}

TEST(HealthMonitor, MemoryFiresAboveTheThresholdOnly) {
  quanta::Runtime rt(quanta::test::config(1));
  HealthThresholds tiny;
  tiny.max_rss_bytes = 1;
  HealthThresholds huge;
  huge.max_rss_bytes = std::size_t{1} << 60;
  HealthMonitor fires(rt, tiny, kNever, [](const HealthEvent&) {});
  HealthMonitor quiet(rt, huge, kNever, [](const HealthEvent&) {});
  const auto evs = fires.check();
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].issue, HealthIssue::Memory);
  EXPECT_EQ(evs[0].value, static_cast<double>(evs[0].metrics.rss_bytes));
  EXPECT_GT(evs[0].value, 1.0);
  EXPECT_TRUE(quiet.check().empty());
}

TEST(HealthMonitor, CpuShareFiresForASpinningUlt) {
  quanta::Runtime rt(quanta::test::round_robin(1));
  HealthThresholds t;
  t.max_cpu_share = 0.01;
  HealthMonitor mon(rt, t, kNever, [](const HealthEvent&) {});
  Holder holder(rt, 0);
  std::vector<HealthEvent> evs;
  ASSERT_TRUE(quanta::test::eventually([&] {
    evs = mon.check();
    return has(evs, HealthIssue::Cpu);
  }));
  EXPECT_GT(evs[0].value, 0.01);
  EXPECT_LE(evs[0].value, 1.5);  // a share, give or take the clocks' read order
  EXPECT_NE(evs[0].message.find("of 1 CPUs"), std::string::npos) << evs[0].message;
}

TEST(HealthMonitor, CpuShareStaysQuietWhileTheWorkersSleep) {
  quanta::Runtime rt(quanta::test::config(2));
  ASSERT_TRUE(quanta::test::eventually([&] {
    for (const auto& w : quanta::SystemMetrics::of(rt).workers)
      if (!w.parked) return false;
    return true;
  }));
  HealthThresholds t;
  t.max_cpu_share = 0.5;
  HealthMonitor mon(rt, t, kNever, [](const HealthEvent&) {});
  EXPECT_TRUE(mon.check().empty());
}

TEST(HealthMonitor, TheThreadCallsTheCallback) {
  quanta::Runtime rt(quanta::test::config(1));
  HealthThresholds t;
  t.max_rss_bytes = 1;
  std::atomic<int> calls{0};
  std::atomic<bool> memory{false};
  HealthMonitor mon(rt, t, 1ms, [&](const HealthEvent& e) {
    if (e.issue == HealthIssue::Memory) memory.store(true);
    calls.fetch_add(1);
  });
  ASSERT_TRUE(quanta::test::eventually([&] { return calls.load() >= 3; }));
  EXPECT_TRUE(memory.load());
  EXPECT_GE(mon.samples(), 3u);
  EXPECT_GE(mon.events(), 3u);
  // A replaced callback gets the later events.
  std::atomic<int> second{0};
  mon.on_issue([&](const HealthEvent&) { second.fetch_add(1); });
  ASSERT_TRUE(quanta::test::eventually([&] { return second.load() >= 2; }));
}

TEST(HealthMonitor, WithoutACallbackItWarnsOnStderrAtMostOncePerSecond) {
  quanta::Runtime rt(quanta::test::config(1));
  HealthThresholds t;
  t.max_rss_bytes = 1;
  const auto start = std::chrono::steady_clock::now();
  testing::internal::CaptureStderr();
  std::uint64_t events = 0;
  {
    HealthMonitor mon(rt, t, 1ms);
    quanta::test::eventually([&] { return mon.events() >= 20; });
    events = mon.events();
  }
  const std::string out = testing::internal::GetCapturedStderr();
  const auto secs =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start)
          .count();
  ASSERT_GE(events, 20u);
  EXPECT_EQ(out.rfind("quanta: health: memory: resident set ", 0), 0u) << out;
  std::size_t lines = 0;
  for (char c : out) lines += c == '\n';
  EXPECT_GE(lines, 1u);
  EXPECT_LE(lines, static_cast<std::size_t>(secs) + 1) << out;
}

TEST(HealthMonitor, RejectsValuesOutOfRange) {
  quanta::Runtime rt(quanta::test::config(1));
  auto message = [&](const HealthThresholds& t, std::chrono::milliseconds interval) {
    try {
      HealthMonitor mon(rt, t, interval);
    } catch (const quanta::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  HealthThresholds ok;
  EXPECT_NE(message(ok, 0ms).find("interval = 0 ms is outside the accepted range [1, 3600000]"),
            std::string::npos);
  EXPECT_NE(message(ok, 3'600'001ms).find("interval = 3600001 ms"), std::string::npos);
  HealthThresholds t;
  t.max_cpu_share = 1.5;
  EXPECT_NE(message(t, 10ms).find("max_cpu_share = 1.5 is outside the accepted range (0, 1]"),
            std::string::npos);
  t = {};
  t.max_run_queue = 0;
  EXPECT_NE(message(t, 10ms).find("max_run_queue = 0 is outside"), std::string::npos);
  t = {};
  t.max_switch_time = 0ns;
  EXPECT_NE(message(t, 10ms).find("max_switch_time = 0 ns is outside the accepted range"),
            std::string::npos);
  t = {};
  t.starving_slices = 0;
  EXPECT_NE(message(t, 10ms).find("starving_slices = 0 is outside"), std::string::npos);
  t = {};
  t.max_rss_bytes = 0;
  EXPECT_NE(message(t, 10ms).find("max_rss_bytes = 0 is outside"), std::string::npos);
  EXPECT_EQ(rt.impl().health_monitors.load(), 0u);  // none left registered
}

TEST(HealthMonitorDeathTest, DestroyingTheRuntimeFirstAborts) {
  EXPECT_DEATH(
      {
        auto* rt = new quanta::Runtime(quanta::test::config(1));
        HealthMonitor mon(*rt, HealthThresholds{}, 1h);
        delete rt;
      },
      "destroyed while 1 HealthMonitor\\(s\\) watch it");
}

}  // namespace
