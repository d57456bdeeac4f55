// Peers of the synchronisation rows: std::mutex and std::shared_mutex
// between kernel threads, Boost.Fiber buffered_channel between fibers.
#include <atomic>
#include <boost/fiber/all.hpp>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "fiber_pool.hpp"
#include "workloads.hpp"

namespace qbench {
namespace {

// Runs fn(i) on n kernel threads started together; returns the wall time
// from releasing them until the last one finished.
template <class F>
Clock::duration on_threads(unsigned n, F fn) {
  std::atomic<bool> go{false};
  std::atomic<unsigned> ready{0};
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (unsigned i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      fn(i);
    });
  }
  while (ready.load() != n) std::this_thread::yield();
  const auto t0 = Clock::now();
  go.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();
  return Clock::now() - t0;
}

using FiberChannel = boost::fibers::buffered_channel<std::uint64_t>;

}  // namespace

Batch std_mutex(const WorkloadParams& p) {
  return [n = p.mutex_contenders, hold = p.mutex_hold](std::uint64_t ops) {
    const std::uint64_t each = share_of("std::mutex", ops, n);
    std::mutex m;
    std::uint64_t counter = 0;
    const auto elapsed = on_threads(n, [&](unsigned) {
      for (std::uint64_t i = 0; i < each; ++i) {
        std::lock_guard lk(m);
        ++counter;
        busy_work(hold);
      }
    });
    check_result("std::mutex counter", counter, ops);
    return elapsed;
  };
}

Batch std_shared_mutex_read(const WorkloadParams& p) {
  return [n = p.readers](std::uint64_t ops) {
    const std::uint64_t each = share_of("std::shared_mutex", ops, n);
    struct Value {
      std::uint64_t a = 1;
    };
    std::shared_mutex m;
    Value v;
    std::vector<std::uint64_t> sums(n);
    const auto elapsed = on_threads(n, [&](unsigned t) {
      std::uint64_t sum = 0;
      for (std::uint64_t i = 0; i < each; ++i) {
        std::shared_lock lk(m);
        sum += v.a;
      }
      sums[t] = sum;
    });
    std::uint64_t total = 0;
    for (const std::uint64_t s : sums) total += s;
    check_result("std::shared_mutex reads", total, ops);
    return elapsed;
  };
}

Batch boost_fiber_channel_pingpong(const WorkloadParams&) {
  return [](std::uint64_t rounds) {
    // Two fibers on this thread (its own round-robin scheduler); 2 slots,
    // the smallest buffered_channel.
    FiberChannel ping(2);
    FiberChannel pong(2);
    std::uint64_t last = 0;
    const auto t0 = Clock::now();
    boost::fibers::fiber echo([&] {
      std::uint64_t v = 0;
      while (ping.pop(v) == boost::fibers::channel_op_status::success) pong.push(v + 1);
    });
    for (std::uint64_t i = 0; i < rounds; ++i) {
      ping.push(i);
      pong.pop(last);
    }
    ping.close();
    echo.join();
    const auto elapsed = Clock::now() - t0;
    check_result("Boost.Fiber channel ping-pong", last, rounds);
    return elapsed;
  };
}

Batch boost_fiber_channel_throughput(const WorkloadParams& p) {
  FiberPool& pool = FiberPool::instance();
  return [&pool, producers = p.channel_producers,
          capacity = p.channel_capacity](std::uint64_t messages) {
    const std::uint64_t each = share_of("Boost.Fiber channel", messages, producers);
    FiberChannel ch(capacity);
    std::vector<std::uint64_t> sums(producers);
    const auto elapsed = pool.run([&] {
      std::vector<boost::fibers::fiber> fibers;
      for (unsigned i = 0; i < producers; ++i) {
        fibers.emplace_back(boost::fibers::launch::post, [&ch, each, i] {
          for (std::uint64_t k = 0; k < each; ++k) ch.push(i * each + k + 1);
        });
      }
      for (unsigned i = 0; i < producers; ++i) {
        fibers.emplace_back(boost::fibers::launch::post, [&ch, &sum = sums[i]] {
          std::uint64_t v = 0;
          while (ch.pop(v) == boost::fibers::channel_op_status::success) sum += v;
        });
      }
      for (unsigned i = 0; i < producers; ++i) fibers[i].join();
      ch.close();
      for (auto& f : fibers) {
        if (f.joinable()) f.join();
      }
    });
    std::uint64_t total = 0;
    for (const std::uint64_t s : sums) total += s;
    check_result("Boost.Fiber channel throughput sum", total, messages * (messages + 1) / 2);
    return elapsed;
  };
}

}  // namespace qbench
