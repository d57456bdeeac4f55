// quanta side of the workloads: skynet, fibonacci with a spawn per call and
// spawn throughput, each on a runtime of 2 workers per scheduler. The batch
// is timed by the calling kernel thread, from spawning the root ULT to
// joining it, as the peers are timed from handing their job over.
#include <array>
#include <memory>
#include <string>
#include <vector>

#include <quanta/quanta.hpp>

#include "workloads.hpp"

namespace qbench {
namespace {

std::shared_ptr<quanta::Runtime> workload_runtime(quanta::SchedulerKind kind) {
  quanta::Config cfg;
  cfg.workers = kWorkloadThreads;
  cfg.scheduler = kind;
  cfg.preempt = false;
  cfg.stack_size = kWorkloadStackSize;
  return std::make_shared<quanta::Runtime>(cfg);
}

const char* scheduler_name(quanta::SchedulerKind kind) {
  return kind == quanta::SchedulerKind::WorkStealing ? "work-stealing" : "round-robin";
}

// The subtree of `size` leaves numbered from `num`: a leaf returns its
// number; an inner node spawns its 10 children, then joins them in order.
std::uint64_t skynet(quanta::Runtime& rt, std::uint64_t num, std::uint64_t size) {
  if (size == 1) return num;
  const std::uint64_t part = size / 10;
  std::array<quanta::JoinHandle<std::uint64_t>, 10> children;
  for (std::uint64_t i = 0; i < children.size(); ++i) {
    children[i] = rt.spawn([&rt, n = num + i * part, part] { return skynet(rt, n, part); });
  }
  std::uint64_t sum = 0;
  for (auto& c : children) sum += c.join();
  return sum;
}

Batch skynet_on(quanta::SchedulerKind kind, const WorkloadParams& p) {
  return [rt = workload_runtime(kind), leaves = p.skynet_leaves, kind](std::uint64_t ops) {
    const auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < ops; ++i) {
      const std::uint64_t sum =
          rt->spawn([&runtime = *rt, leaves] { return skynet(runtime, 0, leaves); }).join();
      check_result(std::string("quanta ") + scheduler_name(kind) + " skynet", sum,
                   leaves * (leaves - 1) / 2);
    }
    return Clock::now() - t0;
  };
}

// fib(n - 1) in a new ULT while the caller computes fib(n - 2), then a join.
std::uint64_t fib(quanta::Runtime& rt, int n) {
  if (n < 2) return static_cast<std::uint64_t>(n);
  auto first = rt.spawn([&rt, n] { return fib(rt, n - 1); });
  const std::uint64_t second = fib(rt, n - 2);
  return first.join() + second;
}

Batch fib_on(quanta::SchedulerKind kind, const WorkloadParams& p) {
  return [rt = workload_runtime(kind), n = p.fib_n, kind](std::uint64_t ops) {
    const auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < ops; ++i) {
      const std::uint64_t v = rt->spawn([&runtime = *rt, n] { return fib(runtime, n); }).join();
      check_result(std::string("quanta ") + scheduler_name(kind) + " fibonacci", v, fib_value(n));
    }
    return Clock::now() - t0;
  };
}

// One driver: `count` trivial ULTs, spawned `fan_out` at a time, each group
// joined before the next is spawned. Returns the sum of their results (1
// each).
std::uint64_t spawn_driver(quanta::Runtime& rt, std::uint64_t count, std::uint64_t fan_out) {
  std::vector<quanta::JoinHandle<int>> group(fan_out);
  std::uint64_t sum = 0;
  for (std::uint64_t done = 0; done < count; done += fan_out) {
    for (auto& h : group) h = rt.spawn([] { return 1; });
    for (auto& h : group) sum += static_cast<std::uint64_t>(h.join());
  }
  return sum;
}

Batch spawn_throughput_on(quanta::SchedulerKind kind, const WorkloadParams& p) {
  return [rt = workload_runtime(kind), fan_out = p.spawn_fan_out, kind](std::uint64_t ops) {
    const std::uint64_t each = driver_share(ops, fan_out);
    // Spawned from this kernel thread: round-robin puts one driver on each
    // worker, work-stealing puts them in its global queue for any worker.
    std::array<quanta::JoinHandle<std::uint64_t>, kWorkloadThreads> drivers;
    const auto t0 = Clock::now();
    for (auto& d : drivers) {
      d = rt->spawn(
          [&runtime = *rt, each, fan_out] { return spawn_driver(runtime, each, fan_out); });
    }
    std::uint64_t sum = 0;
    for (auto& d : drivers) sum += d.join();
    const auto elapsed = Clock::now() - t0;
    check_result(std::string("quanta ") + scheduler_name(kind) + " spawn throughput", sum, ops);
    return elapsed;
  };
}

}  // namespace

Batch quanta_ws_skynet(const WorkloadParams& p) {
  return skynet_on(quanta::SchedulerKind::WorkStealing, p);
}
Batch quanta_ws_fib(const WorkloadParams& p) {
  return fib_on(quanta::SchedulerKind::WorkStealing, p);
}
Batch quanta_ring(const WorkloadParams& p) {
  return [size = p.ring_size](std::uint64_t hops) {
    quanta::Config cfg;
    cfg.workers = 1;
    cfg.preempt = false;
    cfg.stack_size = kWorkloadStackSize;
    quanta::Runtime rt(cfg);
    struct Seat {
      quanta::Semaphore go{0};
      std::uint64_t token = 0;  // written by the previous ULT before its release of go
    };
    std::unique_ptr<Seat[]> seats(new Seat[size]);
    bool over = false;  // one worker: plain variables are enough between ULTs
    std::uint64_t winner = size;
    quanta::Semaphore finished{0};
    quanta::Latch ready(size);
    std::vector<quanta::JoinHandle<void>> ring;
    ring.reserve(size);
    for (unsigned i = 0; i < size; ++i) {
      ring.push_back(rt.spawn([&, i] {
        Seat& me = seats[i];
        Seat& next = seats[(i + 1) % size];
        ready.count_down();
        for (;;) {
          me.go.acquire();
          if (over) return;
          const std::uint64_t token = me.token;
          if (token == 0) {
            winner = i;
            over = true;
            for (unsigned j = 0; j < size; ++j) {
              if (j != i) seats[j].go.release();
            }
            finished.release();
            return;
          }
          next.token = token - 1;
          next.go.release();
        }
      }));
    }
    ready.wait();  // every ULT waits on its semaphore: start-up stays out
    const auto t0 = Clock::now();
    seats[0].token = hops;
    seats[0].go.release();
    finished.acquire();
    const auto elapsed = Clock::now() - t0;
    for (auto& h : ring) h.join();
    check_result("quanta thread-ring winner", winner, hops % size);
    return elapsed;
  };
}

Batch quanta_rr_spawn_throughput(const WorkloadParams& p) {
  return spawn_throughput_on(quanta::SchedulerKind::RoundRobin, p);
}
Batch quanta_ws_spawn_throughput(const WorkloadParams& p) {
  return spawn_throughput_on(quanta::SchedulerKind::WorkStealing, p);
}

}  // namespace qbench
