// quanta — per-ULT hardware counts: what switch_to does for a ULT spawned
// with ThreadBuilder::profiling(true).
//
// Each worker keeps one set of perf events for its kernel thread. They are
// opened for every worker of a runtime, by the spawner, when the runtime's
// first profiled ULT is spawned (perf_event_open takes the worker's thread
// id, so no worker has to stop; and nothing is opened in switch_to, which
// may run in the preemption handler), and count until the runtime stops.
// Switching a profiled ULT in takes a snapshot of the counts; switching it
// out adds the difference to the ULT. So a count covers exactly the runs of
// that ULT, whichever workers they were on.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>

namespace quanta::detail {

struct Ult;
struct Worker;
struct RuntimeCore;

inline constexpr unsigned kProfileEvents = 5;  // as HwEvent in perf_counters.hpp

struct UltProfile {
  // Sums over the ULT's finished runs, written by the worker running it.
  std::atomic<std::uint64_t> total[kProfileEvents] = {};
  // Events counted in every run so far (bit i: HwEvent i); the first run
  // sets it. An event missing from one run is unavailable for the ULT.
  std::atomic<std::uint32_t> counted{0};
  std::atomic<bool> ran{false};
  // The worker's counts when the current run began; owner only.
  std::uint64_t start[kProfileEvents] = {};
  std::uint32_t start_mask = 0;
};

// Made for a profiled ULT at spawn (nullptr when out of memory: the ULT is
// then timed but not counted); freed with the ULT.
UltProfile* profile_create() noexcept;
void profile_destroy(UltProfile* p) noexcept;

// Opens the counters of every worker of rt unless done already. Called at
// the spawn of a profiled ULT, before it can run.
void profile_open_workers(RuntimeCore& rt) noexcept;
// Closes a worker's counters (Worker's destructor).
void profile_close_worker(Worker& w) noexcept;

// Called by Worker::observe_switch on the worker's thread: ends the run of
// `out` and begins the run of `in` (either may be null or unprofiled), with
// one read of the worker's counters.
void profile_switch(Worker& w, Ult* out, Ult* in) noexcept;

// The counts of u so far, into out (kProfileEvents values) with the mask of
// events that have values; with `in_progress` (u is the caller, running on
// w), its current run is included.
std::uint32_t profile_read(const Ult* u, Worker* in_progress, std::uint64_t* out) noexcept;

// Why the events missing from `mask` have no value for a profiled ULT (the
// reasons recorded when a worker's counters were opened); "" when none is.
std::string profile_unavailable(std::uint32_t mask, bool ran);

}  // namespace quanta::detail
