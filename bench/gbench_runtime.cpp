// Google Benchmark: the quanta runtime on one worker without preemption. The
// benchmark loop itself runs inside a driver ULT, so every timed operation is
// a ULT operation and no kernel-thread wake-up is counted.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include <quanta/quanta.hpp>

namespace {

quanta::Config one_worker() {
  quanta::Config cfg;
  cfg.workers = 1;
  cfg.preempt = false;
  return cfg;
}

// N ULTs yielding round-robin: the driver plus N-1 ULTs that yield until told
// to stop. Each driver iteration lets every other ULT yield once, so one
// iteration is N yields; the "yield" counter is the time per yield.
void BM_Yield(benchmark::State& state) {
  const auto n = static_cast<std::int64_t>(state.range(0));
  quanta::Runtime rt(one_worker());
  std::atomic<bool> stop{false};
  std::vector<quanta::JoinHandle<void>> others;
  others.reserve(static_cast<std::size_t>(n - 1));
  for (std::int64_t i = 1; i < n; ++i) {
    others.push_back(rt.spawn([&stop] {
      while (!stop.load(std::memory_order_relaxed)) quanta::this_thread::yield();
    }));
  }
  rt.spawn([&] {
      for (auto _ : state) quanta::this_thread::yield();
      stop.store(true, std::memory_order_relaxed);
    }).join();
  for (auto& h : others) h.join();
  state.SetItemsProcessed(n * state.iterations());
  state.counters["yield"] = benchmark::Counter(
      static_cast<double>(n),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// Spawn of a ULT returning 1 and join of it, from inside a ULT.
void BM_SpawnJoin(benchmark::State& state) {
  quanta::Runtime rt(one_worker());
  rt.spawn([&] {
      for (auto _ : state) {
        int v = rt.spawn([] { return 1; }).join();
        benchmark::DoNotOptimize(v);
      }
    }).join();
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_Yield)->Arg(2)->Arg(1000)->MinTime(0.2)->UseRealTime();
BENCHMARK(BM_SpawnJoin)->MinTime(0.2)->UseRealTime();
