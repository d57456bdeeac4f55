// quanta::Latch: a single-use countdown shared by ULTs and kernel threads.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using quanta::Latch;
using quanta::Runtime;

TEST(Latch, CountsDownAndStaysOpen) {
  Latch l(3);
  EXPECT_FALSE(l.try_wait());
  l.count_down();
  l.count_down(2);
  EXPECT_TRUE(l.try_wait());
  l.wait();
  l.wait();
  l.count_down(0);
  EXPECT_TRUE(l.try_wait());
  Latch zero(0);
  EXPECT_TRUE(zero.try_wait());
  zero.wait();
}

TEST(Latch, ManyUltsArriveAndWaitTogether) {
  for (auto cfg : {quanta::test::round_robin(4), quanta::test::work_stealing(4)}) {
    Runtime rt(cfg);
    constexpr int kUlts = 1000;
    Latch l(kUlts);
    std::atomic<int> arrived{0}, early{0};
    std::vector<quanta::JoinHandle<void>> hs;
    for (int i = 0; i < kUlts; ++i) {
      hs.push_back(rt.spawn([&] {
        arrived.fetch_add(1);
        l.arrive_and_wait();
        if (arrived.load() != kUlts) early.fetch_add(1);
      }));
    }
    for (auto& h : hs) h.join();
    EXPECT_EQ(early.load(), 0);
    EXPECT_TRUE(l.try_wait());
  }
}

TEST(Latch, KernelThreadsAndUltsShareOne) {
  Runtime rt(quanta::test::config(2));
  Latch start(1), done(6);
  std::atomic<int> ran{0};
  std::vector<quanta::JoinHandle<void>> hs;
  for (int i = 0; i < 4; ++i) {
    hs.push_back(rt.spawn([&] {
      start.wait();
      ran.fetch_add(1);
      done.count_down();
    }));
  }
  std::vector<std::thread> ts;
  for (int i = 0; i < 2; ++i) {
    ts.emplace_back([&] {
      start.wait();
      ran.fetch_add(1);
      done.count_down();
    });
  }
  std::this_thread::sleep_for(2ms);
  EXPECT_EQ(ran.load(), 0);
  start.count_down();
  auto w = rt.spawn([&] {
    done.wait();
    return ran.load();
  });
  EXPECT_EQ(w.join(), 6);
  for (auto& h : hs) h.join();
  for (auto& t : ts) t.join();
}

TEST(Latch, BadCountsAreErrors) {
  try {
    Latch l(-1);
    FAIL();
  } catch (const quanta::ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "quanta::Latch: expected count -1 is outside the accepted range [0, "
                 "2305843009213693952]");
  }
  Latch l(2);
  try {
    l.count_down(3);
    FAIL();
  } catch (const quanta::UsageError& e) {
    EXPECT_STREQ(e.what(), "quanta::Latch::count_down(3): only 2 remain; expected n <= the count");
  }
  try {
    l.count_down(-1);
    FAIL();
  } catch (const quanta::UsageError& e) {
    EXPECT_STREQ(e.what(), "quanta::Latch::count_down(-1): expected n >= 0");
  }
  EXPECT_FALSE(l.try_wait());
  l.count_down(2);
  EXPECT_TRUE(l.try_wait());
}

}  // namespace
