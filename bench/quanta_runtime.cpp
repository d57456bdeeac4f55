// quanta runtime cases: ULT yield and spawn+join on one worker, with and
// without metrics and tracing. Each batch is timed by a driver ULT so that no
// kernel-thread wake-up is counted.
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

// A one-worker runtime with tracing on: every event is recorded as in any
// traced run, into the default ring; the file written at the end (to
// /dev/null) is thrown away.
std::shared_ptr<quanta::Runtime> traced_runtime() {
  quanta::Config cfg;
  cfg.workers = 1;
  cfg.preempt = false;
  cfg.trace_file = "/dev/null";
  return std::make_shared<quanta::Runtime>(cfg);
}

// traced_runtime() with its ring filled once: its pages are in memory, as in
// a run that has recorded for a while.
std::shared_ptr<quanta::Runtime> traced_runtime_filled() {
  auto rt = traced_runtime();
  yield_on(rt)(quanta::Config{}.trace_buffer);  // two events per yield: two passes
  return rt;
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
Batch quanta_yield_traced() { return yield_on(traced_runtime_filled()); }
Batch quanta_yield_traced_fresh() {
  return [](std::uint64_t ops) {
    // Timed inside: neither the start nor the writing of the file counts.
    return yield_on(traced_runtime())(ops);
  };
}
Batch quanta_spawn_join() { return spawn_join_on(one_worker_runtime()); }
Batch quanta_spawn_join_rr() {
  return spawn_join_on(one_worker_runtime(quanta::SchedulerKind::RoundRobin));
}
Batch quanta_spawn_join_traced() { return spawn_join_on(traced_runtime_filled()); }

}  // namespace qbench
