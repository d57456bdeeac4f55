// quanta side of the synchronisation rows: Mutex between ULTs on 2 workers,
// Channel ping-pong on 1 worker and throughput on 2, Rcu read sections.
// Each batch is timed by the calling kernel thread from spawning the ULTs to
// joining the last, as the peers are timed from releasing their threads.
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <quanta/quanta.hpp>

#include "workloads.hpp"

namespace qbench {
namespace {

std::shared_ptr<quanta::Runtime> sync_runtime(unsigned workers) {
  quanta::Config cfg;
  cfg.workers = workers;
  cfg.preempt = false;
  cfg.stack_size = kWorkloadStackSize;
  return std::make_shared<quanta::Runtime>(cfg);
}

// Runs fn(i) in n ULTs; returns the wall time until the last one is joined.
template <class F>
Clock::duration on_ults(quanta::Runtime& rt, unsigned n, F fn) {
  std::vector<quanta::JoinHandle<void>> ults;
  ults.reserve(n);
  const auto t0 = Clock::now();
  for (unsigned i = 0; i < n; ++i) ults.push_back(rt.spawn([&fn, i] { fn(i); }));
  for (auto& u : ults) u.join();
  return Clock::now() - t0;
}

}  // namespace

Batch quanta_mutex(const WorkloadParams& p) {
  return [rt = sync_runtime(kWorkloadThreads), n = p.mutex_contenders, hold = p.mutex_hold](std::uint64_t ops) {
    const std::uint64_t each = share_of("quanta::Mutex", ops, n);
    quanta::Mutex m;
    std::uint64_t counter = 0;
    const auto elapsed = on_ults(*rt, n, [&](unsigned) {
      for (std::uint64_t i = 0; i < each; ++i) {
        std::lock_guard lk(m);
        ++counter;
        busy_work(hold);
      }
    });
    check_result("quanta::Mutex counter", counter, ops);
    return elapsed;
  };
}

Batch quanta_channel_pingpong(const WorkloadParams&) {
  return [rt = sync_runtime(1)](std::uint64_t rounds) {
    // Two ULTs on one worker; 2 slots each way, as the peer's smallest
    // buffered_channel.
    quanta::Channel<std::uint64_t> ping(2);
    quanta::Channel<std::uint64_t> pong(2);
    std::uint64_t last = 0;
    const auto t0 = Clock::now();
    auto echo = rt->spawn([&] {
      while (std::optional<std::uint64_t> v = ping.recv()) pong.send(*v + 1);
    });
    auto driver = rt->spawn([&] {
      for (std::uint64_t i = 0; i < rounds; ++i) {
        ping.send(i);
        last = *pong.recv();
      }
      ping.close();
    });
    driver.join();
    echo.join();
    const auto elapsed = Clock::now() - t0;
    check_result("quanta Channel ping-pong", last, rounds);
    return elapsed;
  };
}

Batch quanta_channel_throughput(const WorkloadParams& p) {
  return [rt = sync_runtime(kWorkloadThreads), producers = p.channel_producers,
          capacity = p.channel_capacity](std::uint64_t messages) {
    const std::uint64_t each = share_of("quanta Channel", messages, producers);
    quanta::Channel<std::uint64_t> ch(static_cast<std::int64_t>(capacity));
    std::vector<std::uint64_t> sums(producers);
    std::vector<quanta::JoinHandle<void>> senders;
    std::vector<quanta::JoinHandle<void>> receivers;
    const auto t0 = Clock::now();
    for (unsigned i = 0; i < producers; ++i) {
      senders.push_back(rt->spawn([&ch, each, i] {
        for (std::uint64_t k = 0; k < each; ++k) ch.send(i * each + k + 1);
      }));
      receivers.push_back(rt->spawn([&ch, &sum = sums[i]] {
        while (std::optional<std::uint64_t> v = ch.recv()) sum += *v;
      }));
    }
    for (auto& s : senders) s.join();
    ch.close();
    for (auto& r : receivers) r.join();
    const auto elapsed = Clock::now() - t0;
    std::uint64_t total = 0;
    for (const std::uint64_t s : sums) total += s;
    check_result("quanta Channel throughput sum", total, messages * (messages + 1) / 2);
    return elapsed;
  };
}

Batch quanta_rcu_read(const WorkloadParams& p) {
  return [rt = sync_runtime(kWorkloadThreads), n = p.readers](std::uint64_t ops) {
    const std::uint64_t each = share_of("quanta Rcu", ops, n);
    struct Value {
      std::uint64_t a = 1;
    };
    quanta::Rcu<Value> rcu;
    std::vector<std::uint64_t> sums(n);
    const auto elapsed = on_ults(*rt, n, [&](unsigned t) {
      std::uint64_t sum = 0;
      for (std::uint64_t i = 0; i < each; ++i) {
        auto g = rcu.read();
        sum += g->a;
      }
      sums[t] = sum;
    });
    std::uint64_t total = 0;
    for (const std::uint64_t s : sums) total += s;
    check_result("quanta Rcu reads", total, ops);
    return elapsed;
  };
}

}  // namespace qbench
