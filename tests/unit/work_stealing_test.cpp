// The work-stealing scheduler: idle workers take work spawned on a busy one,
// spawns from kernel threads reach the workers, and an idle runtime parks.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using quanta::Runtime;

bool all_parked(Runtime& rt) {
  for (auto* w : quanta::test::workers_of(rt))
    if (w->parked.load() != 1) return false;
  return true;
}

TEST(WorkStealing, IdleWorkerStealsFromABusyOne) {
  Runtime rt(quanta::test::work_stealing(2));
  // One ULT spawns everything on its worker; the other worker must take some.
  // Each ULT keeps its worker (no yield, no preemption) until a ULT has run
  // on the other worker too, so however slowly the machine runs the threads,
  // only a steal ends the test early; 10 s without one fails it.
  std::mutex mu;
  std::set<unsigned> workers_used;
  std::atomic<bool> both{false};
  rt.spawn([&] {
      std::vector<quanta::JoinHandle<void>> hs;
      for (int i = 0; i < 200; ++i) {
        hs.push_back(rt.spawn([&] {
          {
            std::lock_guard lk(mu);
            workers_used.insert(quanta::test::worker_index());
            if (workers_used.size() == 2) both = true;
          }
          const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
          while (!both.load() && std::chrono::steady_clock::now() < end) quanta::test::burn(1000);
        }));
      }
      for (auto& h : hs) h.join();
    }).join();
  EXPECT_EQ(workers_used.size(), 2u) << "all work stayed on the spawning worker";
}

TEST(WorkStealing, SpawnsFromKernelThreadsRun) {
  Runtime rt(quanta::test::work_stealing(2));
  std::atomic<int> ran{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) rt.spawn([&] { ran.fetch_add(1); });
    });
  for (auto& t : ts) t.join();
  EXPECT_TRUE(quanta::test::eventually([&] { return ran.load() == 4000; }));
}

TEST(WorkStealing, IdleRuntimeParksAndWakesForWork) {
  Runtime rt(quanta::test::work_stealing(2));
  for (int i = 0; i < 100; ++i) rt.spawn([] { quanta::this_thread::yield(); }).join();
  ASSERT_TRUE(quanta::test::eventually([&] { return all_parked(rt); }, 5000ms));
  EXPECT_EQ(rt.spawn([] { return 3; }).join(), 3);
  ASSERT_TRUE(quanta::test::eventually([&] { return all_parked(rt); }, 5000ms));
}

TEST(WorkStealing, YieldLetsOthersRun) {
  Runtime rt(quanta::test::work_stealing(1));
  std::vector<int> order;
  rt.spawn([&] {
      auto a = rt.spawn([&] {
        for (int i = 0; i < 3; ++i) {
          order.push_back(1);
          quanta::this_thread::yield();
        }
      });
      auto b = rt.spawn([&] {
        for (int i = 0; i < 3; ++i) {
          order.push_back(2);
          quanta::this_thread::yield();
        }
      });
      a.join();
      b.join();
    }).join();
  // Alternation (which one starts depends on the run-next slot).
  ASSERT_EQ(order.size(), 6u);
  for (std::size_t i = 1; i < order.size(); ++i) EXPECT_NE(order[i], order[i - 1]) << i;
}

}  // namespace
