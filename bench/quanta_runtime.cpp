// quanta runtime cases: ULT yield and spawn+join on one worker. Each batch is
// timed by a driver ULT so that no kernel-thread wake-up is counted.
#include <benchmark/benchmark.h>

#include <memory>
#include <quanta/quanta.hpp>

#include "cases.hpp"

namespace qbench {
namespace {

std::shared_ptr<quanta::Runtime> one_worker_runtime(
    quanta::SchedulerKind kind = quanta::Config{}.scheduler, bool metrics = true,
    bool thread_metrics = false) {
  quanta::Config cfg;
  cfg.workers = 1;
  cfg.preempt = false;
  cfg.scheduler = kind;
  cfg.metrics = metrics;
  cfg.thread_metrics = thread_metrics;
  return std::make_shared<quanta::Runtime>(cfg);
}

Batch yield_on(std::shared_ptr<quanta::Runtime> runtime, bool profiling = false) {
  return [rt = std::move(runtime), profiling](std::uint64_t ops) {
    // The driver is parked in join while the two yielders alternate.
    return rt
        ->spawn([&runtime = *rt, ops, profiling] {
          const std::uint64_t each = ops / 2;
          auto body = [each] {
            for (std::uint64_t i = 0; i < each; ++i) quanta::this_thread::yield();
          };
          const quanta::ThreadBuilder builder = quanta::ThreadBuilder().profiling(profiling);
          const auto t0 = Clock::now();
          auto a = builder.spawn(runtime, body);
          auto b = builder.spawn(runtime, body);
          a.join();
          b.join();
          return Clock::now() - t0;
        })
        .join();
  };
}

Batch spawn_join_on(std::shared_ptr<quanta::Runtime> runtime) {
  return [rt = std::move(runtime)](std::uint64_t ops) {
    return rt
        ->spawn([&runtime = *rt, ops] {
          const auto t0 = Clock::now();
          for (std::uint64_t i = 0; i < ops; ++i) {
            int v = runtime.spawn([] { return 1; }).join();
            benchmark::DoNotOptimize(v);
          }
          return Clock::now() - t0;
        })
        .join();
  };
}

}  // namespace

Batch quanta_yield() { return yield_on(one_worker_runtime()); }
Batch quanta_yield_rr() { return yield_on(one_worker_runtime(quanta::SchedulerKind::RoundRobin)); }
Batch quanta_yield_metrics_off() {
  return yield_on(one_worker_runtime(quanta::Config{}.scheduler, false));
}
Batch quanta_yield_thread_metrics() {
  return yield_on(one_worker_runtime(quanta::Config{}.scheduler, true, true));
}
Batch quanta_yield_profiled() { return yield_on(one_worker_runtime(), true); }
Batch quanta_spawn_join() { return spawn_join_on(one_worker_runtime()); }
Batch quanta_spawn_join_rr() {
  return spawn_join_on(one_worker_runtime(quanta::SchedulerKind::RoundRobin));
}

}  // namespace qbench
