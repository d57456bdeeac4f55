// The Chase–Lev work-stealing deque on one thread: the order each end gives,
// the full and empty cases, wrap-around of the ring, and the batch helpers
// (pop_half_for_overflow, steal_batch).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <vector>

#include "sched/chase_lev.hpp"

namespace {

using quanta::detail::ChaseLevDeque;
using quanta::detail::Steal;

// Items are addresses into this array; item(i) stands for the i-th task.
struct Item {
  int id;
};

class ChaseLev : public ::testing::Test {
 protected:
  ChaseLev() {
    for (int i = 0; i < 1024; ++i) items_.push_back(Item{i});
  }
  Item* item(int i) { return &items_[static_cast<std::size_t>(i)]; }
  std::vector<Item> items_;
};

using Deque = ChaseLevDeque<Item*>;

TEST_F(ChaseLev, PopIsLifo) {
  Deque q(8);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(q.push(item(i)));
  EXPECT_EQ(q.size_estimate(), 5u);
  for (int i = 4; i >= 0; --i) EXPECT_EQ(q.pop(), item(i));
  EXPECT_EQ(q.pop(), nullptr);
  EXPECT_TRUE(q.empty_estimate());
}

TEST_F(ChaseLev, StealIsFifo) {
  Deque q(8);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(q.push(item(i)));
  for (int i = 0; i < 5; ++i) {
    const auto r = q.steal();
    ASSERT_EQ(r.status, Steal::Success);
    EXPECT_EQ(r.item, item(i));
  }
  const auto r = q.steal();
  EXPECT_EQ(r.status, Steal::Empty);
  EXPECT_EQ(r.item, nullptr);
}

TEST_F(ChaseLev, BothEndsMeet) {
  Deque q(8);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(q.push(item(i)));
  EXPECT_EQ(q.steal().item, item(0));
  EXPECT_EQ(q.pop(), item(5));
  EXPECT_EQ(q.steal().item, item(1));
  EXPECT_EQ(q.pop(), item(4));
  EXPECT_EQ(q.pop(), item(3));
  EXPECT_EQ(q.steal().item, item(2));  // the last item, from the top
  EXPECT_EQ(q.pop(), nullptr);
  EXPECT_EQ(q.steal().status, Steal::Empty);
  ASSERT_TRUE(q.push(item(7)));
  EXPECT_EQ(q.pop(), item(7));  // the last item, from the bottom
  EXPECT_EQ(q.steal().status, Steal::Empty);
}

TEST_F(ChaseLev, EmptyDequeEverywhere) {
  Deque q(4);
  EXPECT_EQ(q.pop(), nullptr);
  EXPECT_EQ(q.pop(), nullptr);  // pop on empty restores bottom
  EXPECT_EQ(q.steal().status, Steal::Empty);
  Item* buf[4] = {};
  EXPECT_EQ(q.steal_batch(buf, 4), 0u);
  Deque into(4);
  EXPECT_EQ(q.steal_batch(into, 4), 0u);
  EXPECT_EQ(q.pop_half_for_overflow(buf), 0u);
  EXPECT_EQ(q.size_estimate(), 0u);
  EXPECT_TRUE(q.empty_estimate());
  // Still usable after all that, at its full capacity.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(q.push(item(i)));
  EXPECT_FALSE(q.push(item(4)));
  EXPECT_EQ(q.size_estimate(), 4u);
}

TEST_F(ChaseLev, FullPushFailsUntilSomethingLeaves) {
  Deque q(8);
  EXPECT_EQ(q.capacity(), 8u);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(q.push(item(i)));
  EXPECT_FALSE(q.push(item(8)));
  EXPECT_EQ(q.size_estimate(), 8u);
  EXPECT_EQ(q.pop(), item(7));  // the failed push added nothing
  ASSERT_TRUE(q.push(item(8)));
  EXPECT_FALSE(q.push(item(9)));
  EXPECT_EQ(q.steal().item, item(0));
  ASSERT_TRUE(q.push(item(9)));  // reuses slot 0
  EXPECT_FALSE(q.push(item(10)));
  for (int i = 1; i < 7; ++i) EXPECT_EQ(q.steal().item, item(i));
  EXPECT_EQ(q.steal().item, item(8));
  EXPECT_EQ(q.steal().item, item(9));
  EXPECT_EQ(q.steal().status, Steal::Empty);
}

TEST_F(ChaseLev, MatchesASequentialModelAcrossManyWraps) {
  // Random single-threaded operations against std::deque; the ring of 8
  // slots wraps thousands of times.
  Deque q(8);
  std::deque<Item*> model;
  std::mt19937 rng(12345);
  int next = 0;
  Item* out[8] = {};
  for (int step = 0; step < 50000; ++step) {
    switch (rng() % 6) {
      case 0:
      case 1:
      case 2: {
        Item* x = item(next++ % 1024);
        const bool ok = q.push(x);
        EXPECT_EQ(ok, model.size() < 8);
        if (ok) model.push_back(x);
        break;
      }
      case 3: {
        Item* x = q.pop();
        if (model.empty()) {
          EXPECT_EQ(x, nullptr);
        } else {
          EXPECT_EQ(x, model.back());
          model.pop_back();
        }
        break;
      }
      case 4: {
        const auto r = q.steal();
        if (model.empty()) {
          EXPECT_EQ(r.status, Steal::Empty);
        } else {
          ASSERT_EQ(r.status, Steal::Success);
          EXPECT_EQ(r.item, model.front());
          model.pop_front();
        }
        break;
      }
      case 5: {
        const std::size_t max = rng() % 5;
        const std::size_t half = model.size() - model.size() / 2;
        const std::size_t expect = std::min(max, half);
        ASSERT_EQ(q.steal_batch(out, max), expect);
        for (std::size_t i = 0; i < expect; ++i) {
          EXPECT_EQ(out[i], model.front());
          model.pop_front();
        }
        break;
      }
    }
    ASSERT_EQ(q.size_estimate(), model.size());
  }
}

TEST_F(ChaseLev, PopHalfForOverflowTakesTheOldestHalf) {
  Deque q(8);
  EXPECT_EQ(q.overflow_batch_max(), 4u);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(q.push(item(i)));
  ASSERT_FALSE(q.push(item(8)));
  Item* out[4] = {};
  ASSERT_EQ(q.pop_half_for_overflow(out), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(out[i], item(i));
  EXPECT_EQ(q.size_estimate(), 4u);
  // The owner can push again, and the newest half stays in order.
  for (int i = 8; i < 12; ++i) ASSERT_TRUE(q.push(item(i)));
  EXPECT_FALSE(q.push(item(12)));
  EXPECT_EQ(q.steal().item, item(4));
  EXPECT_EQ(q.pop(), item(11));
}

TEST_F(ChaseLev, PopHalfForOverflowRoundsUp) {
  Deque q(8);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(q.push(item(i)));
  Item* out[4] = {};
  ASSERT_EQ(q.pop_half_for_overflow(out), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(out[i], item(i));
  EXPECT_EQ(q.pop(), item(4));
  EXPECT_EQ(q.pop(), item(3));
  EXPECT_EQ(q.pop(), nullptr);
  ASSERT_TRUE(q.push(item(5)));
  ASSERT_EQ(q.pop_half_for_overflow(out), 1u);  // one item: that one
  EXPECT_EQ(out[0], item(5));
  EXPECT_EQ(q.steal().status, Steal::Empty);
}

TEST_F(ChaseLev, StealBatchIntoBufferTakesHalfOldestFirst) {
  Deque q(16);
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(q.push(item(i)));
  Item* out[16] = {};
  ASSERT_EQ(q.steal_batch(out, 16), 4u);  // half of 7, rounded up
  for (int i = 0; i < 4; ++i) EXPECT_EQ(out[i], item(i));
  EXPECT_EQ(q.size_estimate(), 3u);
  ASSERT_EQ(q.steal_batch(out, 16), 2u);  // half of 3, rounded up
  EXPECT_EQ(out[0], item(4));
  EXPECT_EQ(out[1], item(5));
  ASSERT_EQ(q.steal_batch(out, 16), 1u);
  EXPECT_EQ(out[0], item(6));
  EXPECT_EQ(q.steal_batch(out, 16), 0u);
}

TEST_F(ChaseLev, StealBatchHonoursMax) {
  Deque q(16);
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(q.push(item(i)));
  Item* out[16] = {};
  EXPECT_EQ(q.steal_batch(out, 0), 0u);
  ASSERT_EQ(q.steal_batch(out, 2), 2u);
  EXPECT_EQ(out[0], item(0));
  EXPECT_EQ(out[1], item(1));
  EXPECT_EQ(q.size_estimate(), 10u);
}

TEST_F(ChaseLev, StealBatchIntoAnotherDeque) {
  Deque victim(16), mine(16);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(victim.push(item(i)));
  ASSERT_EQ(victim.steal_batch(mine, 16), 5u);
  EXPECT_EQ(victim.size_estimate(), 5u);
  EXPECT_EQ(mine.size_estimate(), 5u);
  // Pushed oldest first: the owner of `mine` pops the youngest stolen item
  // first, its thieves take the oldest first.
  EXPECT_EQ(mine.pop(), item(4));
  EXPECT_EQ(mine.steal().item, item(0));
  EXPECT_EQ(victim.steal().item, item(5));
  EXPECT_EQ(victim.pop(), item(9));
}

TEST_F(ChaseLev, StealBatchIntoAnotherDequeStopsAtItsRoom) {
  Deque victim(16), mine(4);
  for (int i = 0; i < 16; ++i) ASSERT_TRUE(victim.push(item(i)));
  ASSERT_TRUE(mine.push(item(100)));
  ASSERT_EQ(victim.steal_batch(mine, 16), 3u);  // room for three
  EXPECT_EQ(victim.size_estimate(), 13u);
  EXPECT_FALSE(mine.push(item(101)));
  EXPECT_EQ(mine.pop(), item(2));
  EXPECT_EQ(mine.pop(), item(1));
  EXPECT_EQ(mine.pop(), item(0));
  EXPECT_EQ(mine.pop(), item(100));
  ASSERT_TRUE(mine.push(item(101)));
  EXPECT_EQ(victim.steal_batch(victim, 16), 0u);  // not into itself
  EXPECT_EQ(victim.size_estimate(), 13u);
}

TEST_F(ChaseLev, CapacityMustBeAPowerOfTwo) {
  EXPECT_THROW(Deque(0), quanta::ConfigError);
  EXPECT_THROW(Deque(1), quanta::ConfigError);
  EXPECT_THROW(Deque(3), quanta::ConfigError);
  EXPECT_THROW(Deque(100), quanta::ConfigError);
  EXPECT_NO_THROW(Deque(2));
  EXPECT_NO_THROW(Deque(256));
}

TEST(ChaseLevLayout, TopAndBottomOnSeparateLines) {
  // The object is over-aligned so that the thieves' `top` and the owner's
  // `bottom` live on lines of their own; heap allocation honours it.
  EXPECT_GE(alignof(ChaseLevDeque<int*>), quanta::arch::kDestructiveInterference);
  EXPECT_GE(sizeof(ChaseLevDeque<int*>), 3 * quanta::arch::kDestructiveInterference);
  auto q = std::make_unique<ChaseLevDeque<int*>>(256);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(q.get()) % quanta::arch::kDestructiveInterference,
            0u);
}

}  // namespace
