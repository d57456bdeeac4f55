// quanta::LockFreeStack: LIFO order, emplace, exception safety, nodes reused
// and destroyed, growth across chunks, use from ULTs and threads.
#include <gtest/gtest.h>

#include <quanta/lock_free_stack.hpp>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using quanta::LockFreeStack;

struct Tracked {
  static std::atomic<int> live;
  int v;
  explicit Tracked(int x) : v(x) {
    if (x < 0) throw std::runtime_error("negative");
    live.fetch_add(1);
  }
  Tracked(const Tracked& o) : v(o.v) { live.fetch_add(1); }
  Tracked(Tracked&& o) noexcept : v(o.v) { live.fetch_add(1); }
  ~Tracked() { live.fetch_sub(1); }
};
std::atomic<int> Tracked::live{0};

TEST(LockFreeStack, Lifo) {
  LockFreeStack<int> s;
  EXPECT_TRUE(s.empty());
  EXPECT_FALSE(s.try_pop().has_value());
  for (int i = 0; i < 10; ++i) s.push(i);
  EXPECT_FALSE(s.empty());
  for (int i = 9; i >= 0; --i) {
    auto v = s.try_pop();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, i);
  }
  EXPECT_TRUE(s.empty());
}

TEST(LockFreeStack, MoveOnlyAndEmplace) {
  LockFreeStack<std::unique_ptr<std::string>> s;
  s.push(std::make_unique<std::string>("one"));
  s.emplace(new std::string("two"));
  EXPECT_EQ(**s.try_pop(), "two");
  EXPECT_EQ(**s.try_pop(), "one");
}

TEST(LockFreeStack, ThrowingConstructorLeavesTheStackUnchanged) {
  Tracked::live.store(0);
  {
    LockFreeStack<Tracked> s;
    s.emplace(1);
    EXPECT_THROW(s.emplace(-1), std::runtime_error);
    EXPECT_EQ(Tracked::live.load(), 1);
    s.emplace(2);  // reuses the node the failed push gave back
    EXPECT_EQ(s.try_pop()->v, 2);
    EXPECT_EQ(s.try_pop()->v, 1);
    EXPECT_FALSE(s.try_pop().has_value());
  }
  EXPECT_EQ(Tracked::live.load(), 0);
}

// Grows over several chunks (64, 128, 256, ... nodes), then reuses them.
TEST(LockFreeStack, GrowsAndReusesNodes) {
  Tracked::live.store(0);
  {
    LockFreeStack<Tracked> s;
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < 5000; ++i) s.emplace(i);
      EXPECT_EQ(Tracked::live.load(), 5000);
      for (int i = 4999; i >= 2500; --i) EXPECT_EQ(s.try_pop()->v, i);
      for (int i = 2499; i >= 0; --i) EXPECT_EQ(s.try_pop()->v, i);
      EXPECT_TRUE(s.empty());
      EXPECT_EQ(Tracked::live.load(), 0);
    }
    for (int i = 0; i < 300; ++i) s.emplace(i);  // left for the destructor
  }
  EXPECT_EQ(Tracked::live.load(), 0);
}

TEST(LockFreeStack, UltsAndKernelThreadsMixed) {
  quanta::Runtime rt(quanta::test::preemptive(2, std::chrono::microseconds(200)));
  LockFreeStack<long> s;
  constexpr long kPer = 20000;
  std::atomic<long> popped_sum{0}, popped{0};
  auto consume = [&] {
    while (popped.load() < 5 * kPer) {
      if (auto v = s.try_pop()) {
        popped_sum.fetch_add(*v);
        popped.fetch_add(1);
      }
    }
  };
  std::vector<quanta::JoinHandle<void>> hs;
  for (long p = 0; p < 4; ++p)
    hs.push_back(rt.spawn([&, p] {
      for (long i = 0; i < kPer; ++i) s.push(p * kPer + i);
    }));
  std::thread k([&] {
    for (long i = 0; i < kPer; ++i) s.push(4 * kPer + i);
  });
  auto c = rt.spawn(consume);
  std::thread kc(consume);
  for (auto& h : hs) h.join();
  k.join();
  c.join();
  kc.join();
  const long n = 5 * kPer;
  EXPECT_EQ(popped.load(), n);
  EXPECT_EQ(popped_sum.load(), n * (n - 1) / 2);
  EXPECT_TRUE(s.empty());
}

}  // namespace
