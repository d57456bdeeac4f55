// LockFreeQueue and LockFreeStack under MPMC load: producers and consumers
// on preemptible ULTs of every worker and on kernel threads, both
// schedulers. Every item comes out exactly once (a seen-bitmap), and the sum
// matches. Boxed items (std::string-carrying) too, for the queue.
#include <gtest/gtest.h>

#include <quanta/lock_free_queue.hpp>
#include <quanta/lock_free_stack.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using quanta::SchedulerKind;

constexpr unsigned kWorkers = 4;
constexpr unsigned kUltProducers = 6, kKernelProducers = 2;
constexpr unsigned kUltConsumers = 6, kKernelConsumers = 2;
constexpr unsigned kProducers = kUltProducers + kKernelProducers;

// Runs `produce(p, first, count)` and `consume()` (returns false when all is
// done) on ULTs and kernel threads at once.
template <class Produce, class Consume>
void run_mpmc(SchedulerKind kind, long per_producer, std::atomic<long>& consumed, Produce produce,
              Consume consume) {
  quanta::Config cfg = quanta::test::preemptive(kWorkers, 100us);
  cfg.scheduler = kind;
  quanta::Runtime rt(cfg);
  quanta::test::Watchdog dog("lock-free MPMC",
                             [&] { return static_cast<std::uint64_t>(consumed.load()); });
  std::vector<quanta::JoinHandle<void>> ults;
  std::vector<std::thread> threads;
  for (unsigned p = 0; p < kProducers; ++p) {
    auto job = [=] { produce(p, static_cast<long>(p) * per_producer, per_producer); };
    if (p < kUltProducers)
      ults.push_back(rt.spawn(job));
    else
      threads.emplace_back(job);
  }
  for (unsigned c = 0; c < kUltConsumers + kKernelConsumers; ++c) {
    auto job = [=] {
      while (consume()) {
      }
    };
    if (c < kUltConsumers)
      ults.push_back(rt.spawn(job));
    else
      threads.emplace_back(job);
  }
  for (auto& h : ults) h.join();
  for (auto& t : threads) t.join();
}

struct Seen {
  explicit Seen(long n) : bits(static_cast<std::size_t>(n)) {}
  // False when the item was seen before (or is out of range).
  bool mark(long v) {
    if (v < 0 || static_cast<std::size_t>(v) >= bits.size()) return false;
    return !bits[static_cast<std::size_t>(v)].exchange(true, std::memory_order_relaxed);
  }
  std::vector<std::atomic<bool>> bits;
};

class LockFreeStress : public ::testing::TestWithParam<SchedulerKind> {};

TEST_P(LockFreeStress, QueueEveryItemExactlyOnce) {
  const long per = quanta::test::stress_scaled(200'000, 5'000);
  const long total = per * kProducers;
  quanta::LockFreeQueue<long> q;
  Seen seen(total);
  std::atomic<long> consumed{0}, sum{0}, dup{0};
  run_mpmc(
      GetParam(), per, consumed,
      [&](unsigned p, long first, long n) {
        long buf[16];
        for (long i = 0; i < n;) {
          if (p % 2 == 0 && n - i >= 16) {  // half the producers in bulk
            for (int k = 0; k < 16; ++k) buf[k] = first + i + k;
            q.enqueue_bulk(buf, 16);
            i += 16;
          } else {
            q.enqueue(first + i);
            ++i;
          }
        }
      },
      [&] {
        long buf[8];
        const std::size_t n = q.try_dequeue_bulk(buf, 8);
        for (std::size_t k = 0; k < n; ++k) {
          if (!seen.mark(buf[k])) dup.fetch_add(1);
          sum.fetch_add(buf[k], std::memory_order_relaxed);
        }
        if (n == 0) {
          if (auto v = q.try_dequeue()) {
            if (!seen.mark(*v)) dup.fetch_add(1);
            sum.fetch_add(*v, std::memory_order_relaxed);
            consumed.fetch_add(1);
          }
        } else {
          consumed.fetch_add(static_cast<long>(n));
        }
        return consumed.load(std::memory_order_relaxed) < total;
      });
  EXPECT_EQ(dup.load(), 0);
  EXPECT_EQ(consumed.load(), total);
  EXPECT_EQ(sum.load(), total * (total - 1) / 2);
  EXPECT_FALSE(q.try_dequeue().has_value());
}

TEST_P(LockFreeStress, QueueOfBoxedItems) {
  const long per = quanta::test::stress_scaled(50'000, 2'000);
  const long total = per * kProducers;
  quanta::LockFreeQueue<std::unique_ptr<std::string>> q;
  Seen seen(total);
  std::atomic<long> consumed{0}, dup{0};
  run_mpmc(
      GetParam(), per, consumed,
      [&](unsigned, long first, long n) {
        for (long i = 0; i < n; ++i) q.enqueue(std::make_unique<std::string>(std::to_string(first + i)));
      },
      [&] {
        if (auto v = q.try_dequeue()) {
          if (!seen.mark(std::stol(**v))) dup.fetch_add(1);
          consumed.fetch_add(1);
        }
        return consumed.load(std::memory_order_relaxed) < total;
      });
  EXPECT_EQ(dup.load(), 0);
  EXPECT_EQ(consumed.load(), total);
}

TEST_P(LockFreeStress, StackEveryItemExactlyOnce) {
  const long per = quanta::test::stress_scaled(200'000, 5'000);
  const long total = per * kProducers;
  quanta::LockFreeStack<long> s;
  Seen seen(total);
  std::atomic<long> consumed{0}, sum{0}, dup{0};
  run_mpmc(
      GetParam(), per, consumed,
      [&](unsigned, long first, long n) {
        for (long i = 0; i < n; ++i) {
          s.push(first + i);
          // Pop and push back now and then: nodes are recycled while others
          // hold stale views of the top (the ABA pattern).
          if (i % 7 == 0) {
            if (auto v = s.try_pop()) s.push(*v);
          }
        }
      },
      [&] {
        if (auto v = s.try_pop()) {
          if (!seen.mark(*v)) dup.fetch_add(1);
          sum.fetch_add(*v, std::memory_order_relaxed);
          consumed.fetch_add(1);
        }
        return consumed.load(std::memory_order_relaxed) < total;
      });
  EXPECT_EQ(dup.load(), 0);
  EXPECT_EQ(consumed.load(), total);
  EXPECT_EQ(sum.load(), total * (total - 1) / 2);
  EXPECT_TRUE(s.empty());
}

INSTANTIATE_TEST_SUITE_P(Schedulers, LockFreeStress,
                         ::testing::Values(SchedulerKind::WorkStealing, SchedulerKind::RoundRobin),
                         [](const auto& info) {
                           return std::string(info.param == SchedulerKind::WorkStealing
                                                  ? "WorkStealing"
                                                  : "RoundRobin");
                         });

}  // namespace
