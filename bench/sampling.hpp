// Repeated-batch timing shared by every case of quanta-bench.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

namespace qbench {

using Clock = std::chrono::steady_clock;

// Runs one batch of `ops` operations and returns the time it took. The batch
// times itself so that setup outside the measured loop stays out.
using Batch = std::function<Clock::duration(std::uint64_t ops)>;

// One case to sample: its batch runner and the operations per batch.
struct Case {
  Batch batch;
  std::uint64_t ops;
};

// Per-operation cost of the timed batches of one case.
struct Stats {
  double median_ns = 0;
  double min_ns = 0;
  double max_ns = 0;
  int samples = 0;
  std::uint64_t ops_per_sample = 0;
};

// One untimed warm-up batch per case, then `samples` rounds that run one
// batch of every case in turn, so that a slow phase of the machine (frequency
// changes, a noisy neighbour) is shared by the cases compared. Returns the
// stats of cases[i] at index i.
std::vector<Stats> sample_interleaved(const std::vector<Case>& cases, int samples);

}  // namespace qbench
