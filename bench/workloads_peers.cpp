// Peers of the workloads: Boost.Fiber (a work_stealing pool of 2 threads,
// and one thread for the ring), oneTBB task_group, and kernel threads for
// the ring.
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <array>
#include <atomic>
#include <boost/fiber/all.hpp>
#include <condition_variable>
#include <exception>
#include <functional>
#include <latch>
#include <memory>
#include <mutex>
#include <semaphore>
#include <thread>
#include <vector>

#include "fiber_pool.hpp"
#include "workloads.hpp"

namespace qbench {
namespace {

// Without a guard page (malloc'd), as Boost.Fiber's default allocator; the
// deepest fiber of these workloads (fib(30)) uses under 7 KiB of it.
boost::fibers::fixedsize_stack workload_stack() {
  return boost::fibers::fixedsize_stack(kWorkloadStackSize);
}

// A fiber started at once (launch::dispatch): its creator waits in the
// ready queue, where another pool thread may steal it.
template <class F>
boost::fibers::fiber dispatch_fiber(F&& fn) {
  return boost::fibers::fiber(boost::fibers::launch::dispatch, std::allocator_arg,
                              workload_stack(), std::forward<F>(fn));
}

// A fiber queued behind the running one (launch::post), as quanta's spawn.
template <class F>
boost::fibers::fiber post_fiber(F&& fn) {
  return boost::fibers::fiber(boost::fibers::launch::post, std::allocator_arg, workload_stack(),
                              std::forward<F>(fn));
}

void fiber_skynet(std::uint64_t& out, std::uint64_t num, std::uint64_t size) {
  if (size == 1) {
    out = num;
    return;
  }
  const std::uint64_t part = size / 10;
  std::array<std::uint64_t, 10> sums{};
  std::array<boost::fibers::fiber, 10> children;
  for (std::uint64_t i = 0; i < children.size(); ++i) {
    children[i] = dispatch_fiber(
        [&sum = sums[i], n = num + i * part, part] { fiber_skynet(sum, n, part); });
  }
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < children.size(); ++i) {
    children[i].join();
    total += sums[i];
  }
  out = total;
}

std::uint64_t fiber_fib(int n) {
  if (n < 2) return static_cast<std::uint64_t>(n);
  std::uint64_t first = 0;
  boost::fibers::fiber f = dispatch_fiber([&first, n] { first = fiber_fib(n - 1); });
  const std::uint64_t second = fiber_fib(n - 2);
  f.join();
  return first + second;
}

std::uint64_t fiber_spawn_driver(std::uint64_t count, std::uint64_t fan_out) {
  std::vector<boost::fibers::fiber> group(fan_out);
  std::vector<int> results(fan_out);
  std::uint64_t sum = 0;
  for (std::uint64_t done = 0; done < count; done += fan_out) {
    for (std::size_t i = 0; i < group.size(); ++i) {
      group[i] = post_fiber([&r = results[i]] { r = 1; });
    }
    for (std::size_t i = 0; i < group.size(); ++i) {
      group[i].join();
      sum += static_cast<std::uint64_t>(results[i]);
    }
  }
  return sum;
}

// ---------------------------------------------------------------------------
// oneTBB

std::uint64_t tbb_fib_call(int n) {
  if (n < 2) return static_cast<std::uint64_t>(n);
  std::uint64_t first = 0;
  tbb::task_group g;
  g.run([&first, n] { first = tbb_fib_call(n - 1); });
  const std::uint64_t second = tbb_fib_call(n - 2);
  g.wait();
  return first + second;
}

}  // namespace

Batch boost_fiber_skynet(const WorkloadParams& p) {
  FiberPool& pool = FiberPool::instance();
  return [&pool, leaves = p.skynet_leaves](std::uint64_t ops) {
    Clock::duration total{};
    for (std::uint64_t i = 0; i < ops; ++i) {
      std::uint64_t sum = 0;
      total += pool.run([&] { fiber_skynet(sum, 0, leaves); });
      check_result("Boost.Fiber skynet", sum, leaves * (leaves - 1) / 2);
    }
    return total;
  };
}

Batch boost_fiber_fib(const WorkloadParams& p) {
  FiberPool& pool = FiberPool::instance();
  return [&pool, n = p.fib_n](std::uint64_t ops) {
    Clock::duration total{};
    for (std::uint64_t i = 0; i < ops; ++i) {
      std::uint64_t v = 0;
      total += pool.run([&] { v = fiber_fib(n); });
      check_result("Boost.Fiber fibonacci", v, fib_value(n));
    }
    return total;
  };
}

Batch boost_fiber_spawn_throughput(const WorkloadParams& p) {
  FiberPool& pool = FiberPool::instance();
  return [&pool, fan_out = p.spawn_fan_out](std::uint64_t ops) {
    const std::uint64_t each = driver_share(ops, fan_out);
    std::array<std::uint64_t, kWorkloadThreads> sums{};
    const auto elapsed = pool.run([&] {
      // Posted from the job's fiber: the other pool thread steals a driver.
      std::array<boost::fibers::fiber, kWorkloadThreads> drivers;
      for (std::size_t d = 0; d < drivers.size(); ++d) {
        drivers[d] = post_fiber([&sum = sums[d], each, fan_out] {
          sum = fiber_spawn_driver(each, fan_out);
        });
      }
      for (auto& d : drivers) d.join();
    });
    std::uint64_t sum = 0;
    for (const std::uint64_t s : sums) sum += s;
    check_result("Boost.Fiber spawn throughput", sum, ops);
    return elapsed;
  };
}

Batch tbb_fib(const WorkloadParams& p) {
  // The calling thread takes one of the arena's slots, a TBB worker the other.
  auto arena = std::make_shared<tbb::task_arena>(static_cast<int>(kWorkloadThreads));
  arena->initialize();
  return [arena, n = p.fib_n](std::uint64_t ops) {
    const auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < ops; ++i) {
      std::uint64_t v = 0;
      arena->execute([&] { v = tbb_fib_call(n); });
      check_result("TBB fibonacci", v, fib_value(n));
    }
    return Clock::now() - t0;
  };
}

Batch boost_fiber_ring(const WorkloadParams& p) {
  return [size = p.ring_size](std::uint64_t hops) {
    // On this thread, with its own (round-robin) fiber scheduler.
    using Channel = boost::fibers::buffered_channel<std::uint64_t>;
    std::vector<std::unique_ptr<Channel>> inbox;
    inbox.reserve(size);
    for (unsigned i = 0; i < size; ++i) inbox.push_back(std::make_unique<Channel>(2));
    std::uint64_t winner = size;
    std::vector<boost::fibers::fiber> ring;
    ring.reserve(size);
    for (unsigned i = 0; i < size; ++i) {
      ring.emplace_back([&, i] {
        Channel& in = *inbox[i];
        Channel& next = *inbox[(i + 1) % size];
        std::uint64_t token = 0;
        while (in.pop(token) == boost::fibers::channel_op_status::success) {
          if (token == 0) {
            // Closing every channel ends the other fibers' pops.
            winner = i;
            for (auto& c : inbox) c->close();
            return;
          }
          next.push(token - 1);
        }
      });
    }
    // The fibers start when this one waits in join.
    const auto t0 = Clock::now();
    inbox[0]->push(hops);
    for (auto& f : ring) f.join();
    const auto elapsed = Clock::now() - t0;
    check_result("Boost.Fiber thread-ring winner", winner, hops % size);
    return elapsed;
  };
}

Batch std_thread_ring(const WorkloadParams& p) {
  return [size = p.ring_size](std::uint64_t hops) {
    struct alignas(64) Seat {
      std::binary_semaphore go{0};
      std::uint64_t token = 0;  // written by the previous thread before its release of go
    };
    std::unique_ptr<Seat[]> seats(new Seat[size]);
    std::atomic<bool> over{false};
    std::uint64_t winner = size;
    std::binary_semaphore finished{0};
    std::latch ready(size);
    std::vector<std::thread> ring;
    ring.reserve(size);
    for (unsigned i = 0; i < size; ++i) {
      ring.emplace_back([&, i] {
        Seat& me = seats[i];
        Seat& next = seats[(i + 1) % size];
        ready.count_down();
        for (;;) {
          me.go.acquire();
          if (over.load(std::memory_order_acquire)) return;
          const std::uint64_t token = me.token;
          if (token == 0) {
            // Every other thread waits on its own semaphore: release them
            // all to let them see `over` and return.
            winner = i;
            over.store(true, std::memory_order_release);
            for (unsigned j = 0; j < size; ++j) {
              if (j != i) seats[j].go.release();
            }
            finished.release();
            return;
          }
          next.token = token - 1;
          next.go.release();
        }
      });
    }
    ready.wait();  // thread start-up stays out of the measurement
    const auto t0 = Clock::now();
    seats[0].token = hops;
    seats[0].go.release();
    finished.acquire();
    const auto elapsed = Clock::now() - t0;
    for (auto& t : ring) t.join();
    check_result("std::thread thread-ring winner", winner, hops % size);
    return elapsed;
  };
}

}  // namespace qbench
