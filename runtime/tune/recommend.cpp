// quanta — recommend(): a configuration from measured costs and a topology.
// Pure: no measurement, no environment, so tests can give it any machine.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "quanta/topology.hpp"
#include "quanta/tune.hpp"

namespace quanta::tune {
namespace {

// Preemption may cost at most 1/kSliceFactor of a preempted ULT's CPU time.
constexpr double kSliceFactor = 100;
// Slices are recommended in whole multiples of this.
constexpr long long kSliceStepUs = 100;
// A preemption's signal frame may fill at most 1/kFrameFactor of a stack.
constexpr std::size_t kFrameFactor = 16;

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string plural(unsigned n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string kib(std::size_t bytes) {
  return bytes % 1024 == 0 ? std::to_string(bytes / 1024) + " KiB"
                           : std::to_string(bytes) + " bytes";
}

std::size_t pow2_at_least(std::size_t v) {
  std::size_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

}  // namespace

Recommendation recommend(const Calibration& c, const Topology& topo) {
  Recommendation r;

  // Workers: one per PU.
  const unsigned pus = std::max(1u, topo.pu_count());
  r.workers = std::min(pus, kMaxWorkers);
  r.workers_reason = "one per PU (" + topo.describe() + "): workers are pinned one per PU; " +
                     "more would time-share a CPU, fewer would leave PUs idle";
  if (topo.pu_count() > topo.core_count())
    r.workers_reason += "; SMT siblings count, a sibling runs while the other stalls";
  if (pus > kMaxWorkers) r.workers_reason += "; capped at kMaxWorkers";

  // Scheduler.
  if (r.workers == 1) {
    r.scheduler = SchedulerKind::RoundRobin;
    r.scheduler_reason =
        "one worker: there is nobody to steal from, and round-robin honours priorities and "
        "runs ULTs in FIFO order";
  } else {
    r.scheduler = SchedulerKind::WorkStealing;
    r.scheduler_reason = "idle workers steal half of a busy worker's queue, so all " +
                         std::to_string(r.workers) +
                         " workers stay busy, and the newest ULT runs next (depth-first, warm "
                         "caches)";
    if (topo.node_count() > 1)
      r.scheduler_reason += "; with " + plural(topo.node_count(), "NUMA node", "NUMA nodes") +
                            " thieves try their own core, cache and node before remote ones";
  }

  // Time slice: preemption costs < 1% of a preempted ULT's CPU time.
  const long long min_us = kMinTimeSlice.count(), max_us = kMaxTimeSlice.count();
  if (std::isfinite(c.preempt_ns) && c.preempt_ns > 0) {
    const double want_us = kSliceFactor * c.preempt_ns / 1000.0;
    long long us = static_cast<long long>(std::ceil(want_us / kSliceStepUs)) * kSliceStepUs;
    us = std::clamp(us, min_us, max_us);
    r.time_slice = std::chrono::microseconds(us);
    r.time_slice_reason = "100 x the measured cost of one preemption (" +
                          fmt("%.1f", c.preempt_ns / 1000.0) + " us) is " +
                          fmt("%.0f", want_us) + " us";
    if (us == min_us && want_us < static_cast<double>(min_us))
      r.time_slice_reason += ", below the shortest slice kMinTimeSlice: preemption costs about " +
                             fmt("%.2f", 100.0 * c.preempt_ns / (1000.0 * us)) +
                             " % of a preempted ULT's time";
    else if (us == max_us)
      r.time_slice_reason += ", above the longest slice kMaxTimeSlice: clamped";
    else
      r.time_slice_reason += ", rounded up to " + std::to_string(kSliceStepUs) +
                             " us: a ULT preempted every slice loses < 1 % of its CPU time "
                             "to preemption, and a spinner holds its worker no longer than that";
  } else {
    r.time_slice = Config{}.time_slice;
    r.time_slice_reason =
        "the default: no preemption was measured (none taken), so its cost is unknown";
  }

  // Stack size: room for a preemption's signal frame and ordinary calls.
  const std::size_t want = pow2_at_least(kFrameFactor * c.signal_frame_bytes);
  r.stack_size = std::clamp(std::max(kDefaultStackSize, want), kMinStackSize, kMaxStackSize);
  if (c.signal_frame_bytes == 0) {
    r.stack_size_reason =
        "the default: the kernel does not report its signal frame size (AT_MINSIGSTKSZ), "
        "which a preemption pushes onto the ULT's stack";
  } else {
    r.stack_size_reason = "a preemption pushes the kernel's signal frame (" +
                          kib(c.signal_frame_bytes) + " here) onto the ULT's stack; " +
                          kib(r.stack_size) + (want > kDefaultStackSize
                                                   ? " keeps it under 1/16 of the stack"
                                                   : " (the default) keeps it under 1/16") +
                          ". Calibration cannot see the application's call depth: raise it "
                          "for deep recursion, lower it for many shallow ULTs";
  }
  return r;
}

Config Recommendation::apply(Config base) const {
  base.workers = workers;
  base.time_slice = time_slice;
  base.stack_size = stack_size;
  base.scheduler = scheduler;
  return base;
}

std::string Recommendation::env() const { return env_lines(apply()); }

}  // namespace quanta::tune
