// Per-ULT metrics (ThreadMetrics): switches and preemptions add up, run time
// is reported only when measured, lookups by id find exactly the live ULTs,
// and hardware counts are either real and attributed to the ULT that ran or
// marked unavailable with a reason.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <quanta/latch.hpp>
#include <quanta/metrics.hpp>
#include <quanta/quanta.hpp>

#include "test_support.hpp"

namespace {

using quanta::ThreadMetrics;
using namespace std::chrono_literals;

// Touches `pages` fresh anonymous pages (one first-touch fault each).
void touch_fresh_pages(std::size_t pages) {
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  void* m = ::mmap(nullptr, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
  ASSERT_NE(m, MAP_FAILED);
  auto* p = static_cast<volatile char*>(m);
  for (std::size_t i = 0; i < pages; ++i) p[i * page] = 1;
  ::munmap(m, pages * page);
}

TEST(ThreadMetrics, SwitchesCountEveryYieldThatSwitched) {
  quanta::Runtime rt(quanta::test::config(1));
  quanta::Latch start(2);
  std::atomic<bool> done{false};
  std::uint64_t before = 0, after = 0;
  auto a = rt.spawn([&] {
    start.arrive_and_wait();
    before = ThreadMetrics::current().switches;
    for (int i = 0; i < 100; ++i) quanta::this_thread::yield();
    after = ThreadMetrics::current().switches;
    done.store(true);
  });
  auto b = rt.spawn([&] {
    start.arrive_and_wait();
    while (!done.load()) quanta::this_thread::yield();
  });
  a.join();
  b.join();
  // One worker, the other ULT always runnable: each yield switched away and back.
  EXPECT_EQ(after - before, 100u);
}

TEST(ThreadMetrics, ForThreadFindsALiveULTUntilItIsReleased) {
  quanta::Runtime rt(quanta::test::config(2));
  std::atomic<bool> go{false};
  auto h = quanta::ThreadBuilder().name("watched").spawn(rt, [&] {
    while (!go.load()) quanta::this_thread::yield();
    return ThreadMetrics::current().switches;
  });
  const std::uint64_t id = h.id();
  auto m = ThreadMetrics::for_thread(id);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->id, id);
  EXPECT_EQ(m->name, "watched");
  EXPECT_FALSE(m->profiled);
  // Not timed by default: no value passed off as a measurement.
  EXPECT_FALSE(m->run_time.has_value());
  EXPECT_FALSE(m->cpu_utilization.has_value());
  EXPECT_FALSE(m->hardware.cycles.has_value());
  EXPECT_NE(m->hardware.unavailable.find("not profiled"), std::string::npos);
  go.store(true);
  // Finished but not joined: still found, with its final counts.
  ASSERT_TRUE(quanta::test::eventually([&] {
    auto f = ThreadMetrics::for_thread(id);
    return f && f->finished;
  }));
  const auto last = ThreadMetrics::for_thread(id);
  const std::uint64_t seen_inside = h.join();
  ASSERT_TRUE(last.has_value());
  EXPECT_GE(last->switches, seen_inside);
  // Released once the worker is done with it too (just after join returns).
  EXPECT_TRUE(quanta::test::eventually([&] { return !ThreadMetrics::for_thread(id); }));
  EXPECT_FALSE(ThreadMetrics::for_thread(0).has_value());
  EXPECT_FALSE(ThreadMetrics::for_thread(~std::uint64_t{0}).has_value());
}

TEST(ThreadMetrics, ForThreadTellsManyULTsApart) {
  quanta::Runtime rt(quanta::test::work_stealing(2));
  constexpr int kUlts = 200;
  std::atomic<bool> go{false};
  std::vector<quanta::JoinHandle<void>> hs;
  for (int i = 0; i < kUlts; ++i) {
    hs.push_back(rt.spawn([&, i] {
      while (!go.load()) quanta::this_thread::yield();
      for (int k = 0; k < i % 5; ++k) quanta::this_thread::yield();
    }));
  }
  for (auto& h : hs) {
    auto m = ThreadMetrics::for_thread(h.id());
    ASSERT_TRUE(m.has_value()) << h.id();
    EXPECT_EQ(m->id, h.id());
  }
  go.store(true);
  for (auto& h : hs) {
    const std::uint64_t id = h.id();
    h.join();
    EXPECT_TRUE(quanta::test::eventually([&] { return !ThreadMetrics::for_thread(id); })) << id;
  }
}

TEST(ThreadMetrics, CurrentOutsideAULTIsAUsageError) {
  EXPECT_THROW(ThreadMetrics::current(), quanta::UsageError);
}

TEST(ThreadMetrics, PreemptionsAreCountedPerULT) {
  quanta::Runtime rt(quanta::test::preemptive(1, 100us));
  std::atomic<bool> stop{false};
  auto spinner = [&] {
    while (!stop.load()) quanta::test::burn(1000);
  };
  auto a = rt.spawn(spinner);
  auto b = rt.spawn(spinner);
  ASSERT_TRUE(quanta::test::eventually([&] {
    auto ma = ThreadMetrics::for_thread(a.id());
    auto mb = ThreadMetrics::for_thread(b.id());
    return ma && mb && ma->preemptions >= 3 && mb->preemptions >= 3;
  }));
  stop.store(true);
  const auto ma = ThreadMetrics::for_thread(a.id());
  ASSERT_TRUE(ma.has_value());
  // Each preemption switched it out, so it was switched back in as often.
  EXPECT_GE(ma->switches, ma->preemptions);
  a.join();
  b.join();
}

TEST(ThreadMetrics, RunTimeIsMeasuredWithThreadMetricsOn) {
  quanta::Config c = quanta::test::config(2);
  c.thread_metrics = true;
  quanta::Runtime rt(c);
  auto sleeper = rt.spawn([] {
    quanta::this_thread::sleep_for(50ms);
    return ThreadMetrics::current();
  });
  auto spinner = rt.spawn([] {
    const auto first = ThreadMetrics::current();
    quanta::test::burn(2'000'000);
    return std::make_pair(first, ThreadMetrics::current());
  });
  const ThreadMetrics s = sleeper.join();
  ASSERT_TRUE(s.run_time && s.age && s.cpu_utilization);
  // It slept 50 ms of its life: it cannot have run all of it.
  EXPECT_GE(*s.age, 50ms);
  EXPECT_LT(*s.run_time, *s.age);
  EXPECT_GE(*s.cpu_utilization, 0.0);
  EXPECT_LT(*s.cpu_utilization, 1.0);
  const auto [first, second] = spinner.join();
  ASSERT_TRUE(first.run_time && second.run_time);
  EXPECT_GT(*second.run_time, *first.run_time);  // the run in progress counts
  EXPECT_LE(*second.run_time, *second.age);
  EXPECT_FALSE(second.profiled);
}

TEST(ThreadMetrics, MetricsOffStopsSamplingButKeepsCounting) {
  quanta::Config c = quanta::test::config(1);
  c.metrics = false;
  quanta::Runtime rt(c);
  // Both ULTs wait for each other before yielding, so every yield of the
  // first one finds the second one runnable (under QEMU the first one could
  // otherwise finish its yields before the second one is spawned).
  quanta::Latch start(2);
  auto h = rt.spawn([&] {
    start.arrive_and_wait();
    for (int i = 0; i < 1000; ++i) quanta::this_thread::yield();
  });
  auto k = rt.spawn([&] {
    start.arrive_and_wait();
    for (int i = 0; i < 1000; ++i) quanta::this_thread::yield();
  });
  h.join();
  k.join();
  const auto st = quanta::context_switch_stats(rt);
  EXPECT_GE(st.switches, 1000u);
  EXPECT_EQ(st.samples, 0u);
  EXPECT_FALSE(st.meets_target);
}

TEST(ThreadMetrics, ProfiledCountsAreRealOrMarkedUnavailable) {
  quanta::Runtime rt(quanta::test::config(1));
  constexpr std::size_t kPages = 256;
  std::atomic<bool> done{false};
  quanta::Latch start(2);
  // Two profiled ULTs take turns on one worker; only one touches memory.
  auto toucher = quanta::ThreadBuilder().profiling().spawn(rt, [&] {
    start.arrive_and_wait();
    for (int i = 0; i < 8; ++i) {
      touch_fresh_pages(kPages / 8);
      quanta::this_thread::yield();
    }
    done.store(true);
    return ThreadMetrics::current();
  });
  auto idler = quanta::ThreadBuilder().profiling().spawn(rt, [&] {
    start.arrive_and_wait();
    while (!done.load()) quanta::this_thread::yield();
  });
  const ThreadMetrics t = toucher.join();
  const std::uint64_t idler_id = idler.id();
  ASSERT_TRUE(quanta::test::eventually([&] {
    auto m = ThreadMetrics::for_thread(idler_id);
    return m && m->finished;
  }));
  const auto i = ThreadMetrics::for_thread(idler_id);
  ASSERT_TRUE(i.has_value());
  idler.join();

  for (const ThreadMetrics* m : {&t, &*i}) {
    EXPECT_TRUE(m->profiled);
    ASSERT_TRUE(m->run_time.has_value());  // profiling times the ULT
    const quanta::HardwareCounters& hw = m->hardware;
    const std::pair<const std::optional<std::uint64_t>*, const char*> fields[] = {
        {&hw.cycles, "cycles"},
        {&hw.instructions, "instructions"},
        {&hw.cache_misses, "cache misses"},
        {&hw.branch_misses, "branch misses"},
        {&hw.page_faults, "page faults"}};
    bool any_missing = false;
    for (const auto& [f, name] : fields) {
      if (!f->has_value()) {
        any_missing = true;
        EXPECT_NE(hw.unavailable.find(name), std::string::npos)
            << "no reason for " << name << " in: " << hw.unavailable;
      }
    }
    EXPECT_EQ(any_missing, !hw.unavailable.empty()) << hw.unavailable;
    std::printf("ULT %llu: %s\n", static_cast<unsigned long long>(m->id),
                hw.unavailable.empty() ? "every count available" : hw.unavailable.c_str());
  }
  if (t.hardware.page_faults && i->hardware.page_faults) {
    std::printf("page faults: toucher %llu, idler %llu\n",
                static_cast<unsigned long long>(*t.hardware.page_faults),
                static_cast<unsigned long long>(*i->hardware.page_faults));
    // Counted while each ULT ran, not while the worker ran: the faults are
    // the toucher's.
    EXPECT_GE(*t.hardware.page_faults, kPages / 2);
    EXPECT_LT(*i->hardware.page_faults, kPages / 4);
  }
  if (t.hardware.instructions && i->hardware.instructions) {
    EXPECT_GT(*t.hardware.instructions, 0u);
  }
}

}  // namespace
