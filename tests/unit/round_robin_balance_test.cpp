// Round-robin load balancing: ULTs queued on one worker while another is
// parked are handed over to it; placement restrictions are kept.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

// Spawned from one ULT, so round-robin queues them all on its worker. Each
// yields (so its worker keeps picking) until ULTs have run on both workers;
// only a hand-over ends that early, 10 s without one fails the test.
TEST(RoundRobinBalance, QueuedUltsMoveToAParkedWorker) {
  quanta::Runtime rt(quanta::test::round_robin(2));
  std::mutex mu;
  std::set<unsigned> used;
  std::atomic<bool> both{false};
  rt.spawn([&] {
      std::vector<quanta::JoinHandle<void>> hs;
      for (int i = 0; i < 100; ++i) {
        hs.push_back(rt.spawn([&] {
          const auto end = std::chrono::steady_clock::now() + 10s;
          while (!both.load() && std::chrono::steady_clock::now() < end) {
            {
              quanta::NoPreempt np;  // the index holds while we record it
              std::lock_guard lk(mu);
              used.insert(quanta::test::worker_index());
              if (used.size() == 2) both = true;
            }
            quanta::test::burn(1000);
            quanta::this_thread::yield();
          }
        }));
      }
      for (auto& h : hs) h.join();
    }).join();
  EXPECT_TRUE(both.load()) << "all ULTs stayed on the worker that spawned them";
}

// A ULT allowed only on the spawning worker's CPU is never handed over.
TEST(RoundRobinBalance, RestrictedUltsStay) {
  quanta::Runtime rt(quanta::test::round_robin(2));
  auto workers = quanta::test::workers_of(rt);
  if (workers[0]->cpu < 0 || workers[0]->cpu == workers[1]->cpu)
    GTEST_SKIP() << "the two workers do not sit on two distinct CPUs here";
  std::atomic<int> wrong{0};
  std::atomic<int> done{0};
  quanta::ThreadBuilder()
      .cpu_affinity({workers[0]->cpu})
      .spawn(rt, [&] {
        std::vector<quanta::JoinHandle<void>> hs;
        for (int i = 0; i < 100; ++i) {
          hs.push_back(quanta::ThreadBuilder().cpu_affinity({workers[0]->cpu}).spawn([&] {
            for (int k = 0; k < 200; ++k) {
              {
                quanta::NoPreempt np;
                if (quanta::test::worker_index() != 0) ++wrong;
              }
              quanta::this_thread::yield();
            }
            ++done;
          }));
        }
        for (auto& h : hs) h.join();
      })
      .join();
  EXPECT_EQ(done.load(), 100);
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
