// Google Benchmark: raw context switches. One iteration is a round trip (two
// switches); the "switch" counter is the time per switch.
#include <benchmark/benchmark.h>

#include "pingpong.hpp"

namespace {

template <class PingPong>
void round_trips(benchmark::State& state) {
  PingPong pp;
  for (auto _ : state) pp.round_trip();
  state.SetItemsProcessed(2 * state.iterations());
  state.counters["switch"] = benchmark::Counter(
      2, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_RawSwitch(benchmark::State& state) { round_trips<qbench::QuantaPingPong>(state); }
void BM_BoostContextSwitch(benchmark::State& state) {
  round_trips<qbench::FcontextPingPong>(state);
}

}  // namespace

BENCHMARK(BM_RawSwitch)->MinTime(0.2);
BENCHMARK(BM_BoostContextSwitch)->MinTime(0.2);
