// quanta::Barrier: phases complete only when every participant has arrived,
// one participant per phase is told it was last, the barrier is reusable,
// participants may drop out, and ULTs and kernel threads may share one.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using quanta::Barrier;
using quanta::Runtime;

TEST(Barrier, PhasesAreReusableAndOrdered) {
  for (auto cfg : {quanta::test::round_robin(4), quanta::test::work_stealing(4)}) {
    Runtime rt(cfg);
    constexpr int kUlts = 200, kPhases = 30;
    Barrier b(kUlts);
    std::vector<std::atomic<int>> arrived(kPhases);
    std::atomic<int> lasts{0}, bad{0};
    std::vector<quanta::JoinHandle<void>> hs;
    for (int i = 0; i < kUlts; ++i) {
      hs.push_back(rt.spawn([&] {
        for (int p = 0; p < kPhases; ++p) {
          arrived[p].fetch_add(1);
          if (b.arrive_and_wait()) lasts.fetch_add(1);
          // Nobody passes phase p before everyone has arrived at it.
          if (arrived[p].load() != kUlts) bad.fetch_add(1);
        }
      }));
    }
    for (auto& h : hs) h.join();
    EXPECT_EQ(bad.load(), 0);
    EXPECT_EQ(lasts.load(), kPhases);
  }
}

TEST(Barrier, KernelThreadsAndUltsMeet) {
  Runtime rt(quanta::test::config(2));
  constexpr int kPhases = 50;
  Barrier b(5);
  std::atomic<int> step{0}, bad{0};
  auto body = [&] {
    for (int p = 0; p < kPhases; ++p) {
      step.fetch_add(1);
      b.arrive_and_wait();
      if (step.load() < (p + 1) * 5) bad.fetch_add(1);
      b.arrive_and_wait();  // keep phases apart so the check above is exact
    }
  };
  std::vector<quanta::JoinHandle<void>> hs;
  for (int i = 0; i < 3; ++i) hs.push_back(rt.spawn(body));
  std::thread t1(body), t2(body);
  for (auto& h : hs) h.join();
  t1.join();
  t2.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(step.load(), kPhases * 5);
}

TEST(Barrier, ParticipantsCanDropOut) {
  Runtime rt(quanta::test::config(2));
  Barrier b(4);
  std::atomic<int> phases_done{0};
  auto dropper = rt.spawn([&] {
    if (b.arrive_and_wait()) phases_done.fetch_add(1);  // phase 0 with everyone
    b.arrive_and_drop();                                  // phase 1, then gone
  });
  std::vector<quanta::JoinHandle<void>> stayers;
  for (int i = 0; i < 3; ++i) {
    stayers.push_back(rt.spawn([&] {
      for (int p = 0; p < 10; ++p) {
        if (b.arrive_and_wait()) phases_done.fetch_add(1);
      }
    }));
  }
  dropper.join();
  for (auto& h : stayers) h.join();  // phases 2..9 complete with three: no hang
  // Every phase had one last arrival; only phase 1's may have been the drop.
  EXPECT_GE(phases_done.load(), 9);
  EXPECT_LE(phases_done.load(), 10);
}

TEST(Barrier, BadUseIsAnError) {
  try {
    Barrier b(0);
    FAIL();
  } catch (const quanta::ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "quanta::Barrier: 0 participants is outside the accepted range [1, "
                 "2305843009213693952]");
  }
  Barrier b(1);
  EXPECT_TRUE(b.arrive_and_wait());  // alone: always last
  b.arrive_and_drop();
  try {
    b.arrive_and_wait();
    FAIL();
  } catch (const quanta::UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "quanta::Barrier::arrive_and_wait: every participant has dropped out; expected "
                 "at most as many arrive_and_drop() calls as participants");
  }
}

}  // namespace
