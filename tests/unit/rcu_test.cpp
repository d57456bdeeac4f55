// quanta::Rcu: readers see the published version, updates replace it,
// synchronize() waits for earlier readers on ULTs and kernel threads, and old
// versions are freed after their grace period (and only then).
//
// The misuse checks are asked for explicitly, so that the death tests run in
// builds with NDEBUG too.
#define QUANTA_SYNC_CHECKS 1

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "rcu/rcu_runtime.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using quanta::Rcu;
using quanta::Runtime;
using quanta::SchedulerKind;

// Counts live instances, so tests can see when versions are freed.
struct Counted {
  static std::atomic<int> live;
  int value;
  explicit Counted(int v = 0) : value(v) { live.fetch_add(1); }
  Counted(const Counted& o) : value(o.value) { live.fetch_add(1); }
  Counted(Counted&& o) noexcept : value(o.value) { live.fetch_add(1); }
  ~Counted() { live.fetch_sub(1); }
};
std::atomic<int> Counted::live{0};

class RcuTest : public ::testing::Test {
 protected:
  void SetUp() override { Counted::live.store(0); }
  void TearDown() override { EXPECT_EQ(Counted::live.load(), 0); }
};

TEST_F(RcuTest, KernelThreadReadsTheInitialValue) {
  Rcu<Counted> r(Counted(7));
  {
    auto g = r.read();
    EXPECT_EQ(g->value, 7);
    EXPECT_EQ((*g).value, 7);
    EXPECT_EQ(g.get()->value, 7);
  }
  Rcu<std::string> s(std::in_place, 3, 'x');
  EXPECT_EQ(*s.read(), "xxx");
  Rcu<int> d;
  EXPECT_EQ(*d.read(), 0);
}

TEST_F(RcuTest, UpdatesAreVisibleToLaterReaders) {
  Rcu<Counted> r(Counted(1));
  {
    auto held = r.read();  // holds every grace period: nothing is freed
    r.update(Counted(2));
    EXPECT_EQ(r.read()->value, 2);
    r.update([](const Counted& old) { return Counted(old.value * 10); });
    EXPECT_EQ(r.read()->value, 20);
    EXPECT_EQ(held->value, 1);
    EXPECT_EQ(r.retired(), 2u);
    EXPECT_EQ(Counted::live.load(), 3);
  }
  r.synchronize();
  EXPECT_EQ(r.retired(), 0u);
  EXPECT_EQ(Counted::live.load(), 1);
}

TEST_F(RcuTest, UpdateFunctionThatThrowsChangesNothing) {
  Rcu<Counted> r(Counted(5));
  EXPECT_THROW(r.update([](const Counted&) -> Counted { throw std::runtime_error("no"); }),
               std::runtime_error);
  EXPECT_EQ(r.read()->value, 5);
  EXPECT_EQ(r.retired(), 0u);
  r.update([](const Counted& c) { return Counted(c.value + 1); });  // the lock was released
  EXPECT_EQ(r.read()->value, 6);
}

TEST_F(RcuTest, NestedReadSections) {
  Rcu<Counted> r(Counted(1));
  auto outer = r.read();
  r.update(Counted(2));
  {
    auto inner = r.read();
    EXPECT_EQ(inner->value, 2);
  }
  EXPECT_EQ(outer->value, 1);  // still the version it began with
}

TEST_F(RcuTest, OldVersionSurvivesWhileAKernelThreadReadsIt) {
  Rcu<Counted> r(Counted(1));
  std::atomic<bool> reading{false}, release{false}, synced{false};
  std::thread reader([&] {
    auto g = r.read();
    reading.store(true);
    while (!release.load()) std::this_thread::sleep_for(1ms);
    EXPECT_EQ(g->value, 1);
  });
  while (!reading.load()) std::this_thread::sleep_for(1ms);
  r.update(Counted(2));
  std::thread writer([&] {
    r.synchronize();
    synced.store(true);
  });
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(synced.load());        // waits for the reader that began earlier
  EXPECT_EQ(Counted::live.load(), 2);  // and version 1 is still there
  release.store(true);
  reader.join();
  writer.join();
  EXPECT_EQ(Counted::live.load(), 1);
}

// Readers that start after the flip of the kernel-reader counters do not
// hold the grace period back, even if one stays inside all along.
TEST_F(RcuTest, LaterKernelReadersDoNotHoldTheGracePeriod) {
  Rcu<Counted> r(Counted(1));
  r.update(Counted(2));
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto g = r.read();
        EXPECT_GE(g->value, 2);
        std::this_thread::sleep_for(100us);
      }
    });
  }
  for (int i = 0; i < 20; ++i) {
    r.update(Counted(3 + i));
    r.synchronize();  // returns although some reader is (almost) always inside
  }
  stop.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(Counted::live.load(), 1);
}

TEST_F(RcuTest, SynchronizeInsideAKernelThreadReadSectionAborts) {
  GTEST_FLAG_SET(death_test_style, "fast");
  EXPECT_DEATH(
      {
        Rcu<int> r(1);
        auto g = r.read();
        r.synchronize();
      },
      "synchronize\\(\\) was called inside a read section");
}

class RcuWorkers : public ::testing::TestWithParam<std::tuple<SchedulerKind, unsigned>> {
 protected:
  void SetUp() override { Counted::live.store(0); }
  void TearDown() override { EXPECT_EQ(Counted::live.load(), 0); }
  quanta::Config cfg() const {
    auto [kind, n] = GetParam();
    return kind == SchedulerKind::WorkStealing ? quanta::test::work_stealing(n)
                                               : quanta::test::round_robin(n);
  }
};

// On one worker and on several, most of them idle (parked): a ULT's and a
// kernel thread's synchronize() return, and free what was replaced.
TEST_P(RcuWorkers, SynchronizeReturnsAndReclaims) {
  Runtime rt(cfg());
  Rcu<Counted> r(Counted(0));
  rt.spawn([&] {
      for (int i = 1; i <= 50; ++i) {
        EXPECT_EQ(r.read()->value, i - 1);
        r.update(Counted(i));
        if (i % 10 == 0) {
          r.synchronize();
          EXPECT_EQ(r.retired(), 0u);
          EXPECT_EQ(Counted::live.load(), 1);
        }
      }
    }).join();
  for (int i = 0; i < 10; ++i) r.update([](const Counted& c) { return Counted(c.value + 1); });
  r.synchronize();
  EXPECT_EQ(r.read()->value, 60);
  EXPECT_EQ(r.retired(), 0u);
  EXPECT_EQ(Counted::live.load(), 1);
}

// Retired versions are freed by later updates (or reclaim()) once a grace
// period has passed, without anyone calling synchronize().
TEST_P(RcuWorkers, DeferredReclamationWithoutSynchronize) {
  Runtime rt(cfg());
  Rcu<Counted> r(Counted(0));
  std::vector<quanta::JoinHandle<void>> hs;
  for (unsigned t = 0; t < rt.worker_count() * 2; ++t) {
    hs.push_back(rt.spawn([&] {
      for (int i = 0; i < 200; ++i) {
        {
          auto g = r.read();
          EXPECT_GE(g->value, 0);
        }
        quanta::this_thread::yield();
      }
    }));
  }
  for (int i = 1; i <= 200; ++i) r.update(Counted(i));
  for (auto& h : hs) h.join();
  // Every worker is idle now: grace periods complete on the next polls.
  EXPECT_TRUE(quanta::test::eventually([&] { return r.reclaim() == 0; }));
  EXPECT_EQ(Counted::live.load(), 1);
}

// A ULT inside a read section holds the grace period until it leaves, and
// its version stays alive meanwhile.
// With one worker, which the reader occupies, synchronize() runs on a
// kernel thread; with more, on another ULT.
TEST_P(RcuWorkers, SynchronizeWaitsForAReadingUlt) {
  Runtime rt(cfg());
  Rcu<Counted> r(Counted(1));
  std::atomic<bool> reading{false}, release{false}, synced{false};
  auto reader = rt.spawn([&] {
    auto g = r.read();
    reading.store(true);
    while (!release.load(std::memory_order_relaxed)) quanta::test::burn(100);
    EXPECT_EQ(g->value, 1);
  });
  while (!reading.load()) std::this_thread::sleep_for(1ms);
  r.update(Counted(2));
  auto sync = [&] {
    r.synchronize();
    synced.store(true);
  };
  quanta::JoinHandle<void> writer_ult;
  std::thread writer_thread;
  if (rt.worker_count() > 1)
    writer_ult = rt.spawn(sync);
  else
    writer_thread = std::thread(sync);
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(synced.load());
  EXPECT_EQ(Counted::live.load(), 2);
  release.store(true);
  reader.join();
  if (writer_ult.joinable()) writer_ult.join();
  if (writer_thread.joinable()) writer_thread.join();
  EXPECT_TRUE(synced.load());
  EXPECT_EQ(Counted::live.load(), 1);
}

// The same with synchronize() on a kernel thread and the reader preemptible
// outside its section (a preemption that arrives inside is deferred).
TEST_P(RcuWorkers, KernelThreadSynchronizeWithPreemption) {
  quanta::Config c = cfg();
  c.preempt = true;
  c.time_slice = 200us;
  Runtime rt(c);
  Rcu<Counted> r(Counted(0));
  std::atomic<bool> stop{false};
  std::vector<quanta::JoinHandle<void>> hs;
  for (unsigned t = 0; t < rt.worker_count() * 2; ++t) {
    hs.push_back(rt.spawn([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        auto g = r.read();
        const int v = g->value;
        quanta::test::burn(2000);
        EXPECT_EQ(g->value, v);
      }
    }));
  }
  for (int i = 1; i <= 30; ++i) {
    r.update(Counted(i));
    r.synchronize();
    EXPECT_EQ(Counted::live.load(), 1);
  }
  stop.store(true);
  for (auto& h : hs) h.join();
}

TEST_P(RcuWorkers, YieldInsideAReadSectionAborts) {
  GTEST_FLAG_SET(death_test_style, "fast");
  const quanta::Config c = cfg();
  EXPECT_DEATH(
      {
        Runtime rt(c);
        Rcu<int> r(1);
        rt.spawn([&] {
            auto g = r.read();
            quanta::this_thread::yield();
          }).join();
      },
      "tried to yield inside an Rcu read section");
}

TEST_P(RcuWorkers, SleepInsideAReadSectionAborts) {
  GTEST_FLAG_SET(death_test_style, "fast");
  const quanta::Config c = cfg();
  EXPECT_DEATH(
      {
        Runtime rt(c);
        Rcu<int> r(1);
        rt.spawn([&] {
            auto g = r.read();
            quanta::this_thread::sleep_for(1ms);
          }).join();
      },
      "tried to park .* inside an Rcu read section");
}

INSTANTIATE_TEST_SUITE_P(
    Schedulers, RcuWorkers,
    ::testing::Combine(::testing::Values(SchedulerKind::WorkStealing, SchedulerKind::RoundRobin),
                       ::testing::Values(1u, 4u)),
    [](const auto& info) {
      return std::string(std::get<0>(info.param) == SchedulerKind::WorkStealing ? "WorkStealing"
                                                                                : "RoundRobin") +
             std::to_string(std::get<1>(info.param));
    });

// One Rcu read from ULTs of two runtimes: a grace period watches both.
TEST_F(RcuTest, TwoRuntimes) {
  Runtime a(quanta::test::config(2)), b(quanta::test::config(2));
  Rcu<Counted> r(Counted(0));
  std::atomic<bool> reading{false}, release{false}, synced{false};
  auto reader = b.spawn([&] {
    auto g = r.read();
    reading.store(true);
    while (!release.load(std::memory_order_relaxed)) quanta::test::burn(100);
    EXPECT_EQ(g->value, 0);
  });
  while (!reading.load()) std::this_thread::sleep_for(1ms);
  r.update(Counted(1));
  auto writer = a.spawn([&] {
    r.synchronize();
    synced.store(true);
  });
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(synced.load());
  release.store(true);
  reader.join();
  writer.join();
  EXPECT_EQ(Counted::live.load(), 1);
}

// The destructor frees the current version and everything retired.
TEST_F(RcuTest, DestructorFreesEverything) {
  {
    Rcu<Counted> r(Counted(0));
    {
      auto held = r.read();  // no grace period can end
      for (int i = 1; i <= 10; ++i) r.update(Counted(i));
    }
    EXPECT_EQ(Counted::live.load(), 11);
    EXPECT_EQ(r.retired(), 10u);
  }
  EXPECT_EQ(Counted::live.load(), 0);
}

TEST(RcuOrdering, ChosenWhenARuntimeStarts) {
  { Runtime rt(quanta::test::config(1)); }
  EXPECT_NE(quanta::detail::rcu_ordering(), quanta::detail::RcuOrdering::Unknown);
}

}  // namespace
