// Round-robin scheduler order: FIFO within a priority level, higher levels first, and
// yield hands over only to ULTs of the same or a higher level.
#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "test_support.hpp"

namespace {

using quanta::Runtime;
using quanta::ThreadBuilder;

TEST(PriorityOrder, YieldIsFifoWithinALevel) {
  Runtime rt(quanta::test::round_robin(1));
  std::vector<int> order;
  // Spawned from one ULT so that all start on its worker, in spawn order.
  rt.spawn([&] {
      std::vector<quanta::JoinHandle<void>> hs;
      for (int id = 0; id < 4; ++id) {
        hs.push_back(rt.spawn([&, id] {
          for (int round = 0; round < 3; ++round) {
            order.push_back(id);
            quanta::this_thread::yield();
          }
        }));
      }
      for (auto& h : hs) h.join();
    }).join();
  std::vector<int> expected;
  for (int round = 0; round < 3; ++round)
    for (int id = 0; id < 4; ++id) expected.push_back(id);
  EXPECT_EQ(order, expected);
}

TEST(PriorityOrder, HigherPriorityRunsFirst) {
  Runtime rt(quanta::test::round_robin(1));
  std::vector<std::string> order;
  rt.spawn([&] {
      auto mk = [&](const char* name, int prio) {
        return ThreadBuilder().name(name).priority(prio).spawn([&order, name] {
          order.push_back(name);
        });
      };
      // None runs before this ULT blocks in the first join.
      std::vector<quanta::JoinHandle<void>> hs;
      hs.push_back(mk("low1", 2));
      hs.push_back(mk("high1", 30));
      hs.push_back(mk("mid", quanta::kDefaultPriority));
      hs.push_back(mk("low2", 2));
      hs.push_back(mk("high2", 30));
      for (auto& h : hs) h.join();
    }).join();
  EXPECT_EQ(order, (std::vector<std::string>{"high1", "high2", "mid", "low1", "low2"}));
}

TEST(PriorityOrder, YieldDoesNotHandOverToLowerPriority) {
  Runtime rt(quanta::test::round_robin(1));
  std::vector<std::string> order;
  rt.spawn([&] {
      auto low = ThreadBuilder().priority(1).spawn([&] { order.push_back("low"); });
      auto high = ThreadBuilder().priority(20).spawn([&] {
        for (int i = 0; i < 3; ++i) {
          order.push_back("high");
          quanta::this_thread::yield();  // only `low` is runnable: keep running
        }
      });
      high.join();
      low.join();
    }).join();
  EXPECT_EQ(order, (std::vector<std::string>{"high", "high", "high", "low"}));
}

TEST(PriorityOrder, SleeperIsWokenWhileOthersKeepYielding) {
  Runtime rt(quanta::test::round_robin(1));
  std::vector<int> order;
  rt.spawn([&] {
      auto sleeper = rt.spawn([&] {
        quanta::this_thread::sleep_for(std::chrono::milliseconds(2));
        order.push_back(99);
      });
      auto spinner = rt.spawn([&] {
        for (int i = 0; i < 50; ++i) quanta::this_thread::yield();
        order.push_back(1);
      });
      sleeper.join();
      spinner.join();
    }).join();
  ASSERT_EQ(order.size(), 2u);
}

}  // namespace
