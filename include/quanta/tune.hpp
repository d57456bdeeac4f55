// quanta — tuning: profile names, and the auto-tuner that measures this
// machine's switch, spawn, preemption and wake-up costs and recommends a
// configuration from them and the topology. `quanta-tune` prints the same.
//
// Measuring (calibrate) and deciding (recommend) are separate, so a
// recommendation can be computed for any topology and any measured costs.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "quanta/config.hpp"

namespace quanta {

class Topology;

namespace tune {

// The name QUANTA_PROFILE uses for p ("latency", "throughput",
// "memory_constrained", "cpu_constrained"); "" for a value that is not a
// Profile.
std::string_view profile_name(Profile p) noexcept;
// The Profile named `name` (exactly, lower case), or empty.
std::optional<Profile> profile_from_name(std::string_view name) noexcept;

// Costs measured on this machine by calibrate(). Times in nanoseconds; NaN
// where a figure could not be measured (e.g. no preemption was taken).
struct Calibration {
  // One yield between 2 ULTs on 1 worker (a switch through the scheduler).
  double switch_ns = 0;
  // One spawn + join of an empty ULT, from a ULT, 1 worker.
  double spawn_join_ns = 0;
  // CPU time one preemption costs the preempted worker: signal delivery,
  // handler, switch and what the switched-in ULT loses to cold caches:
  // preempt_cpu_ns, or preempt_switch_ns when that is NaN.
  double preempt_ns = 0;
  // The gap between the last instruction of a preempted spinning ULT and
  // the first of the ULT switched in (wall time, median).
  double preempt_switch_ns = 0;
  // Worker CPU time beyond the work done, per preemption (a spinner alone
  // vs two spinners preempted in turn, 1 worker, slice kMinTimeSlice).
  double preempt_cpu_ns = 0;
  // Preemptions taken and signals sent while preempt_ns was measured.
  std::uint64_t preemptions = 0;
  std::uint64_t signals_sent = 0;
  // From a spawn on a kernel thread while the worker sleeps in the kernel
  // (parked) until the ULT runs (median).
  double wake_ns = 0;
  // The kernel's minimum signal stack size (AT_MINSIGSTKSZ), about the size
  // of the frame a preemption signal pushes onto the ULT's stack; 0 when the
  // kernel does not say.
  std::size_t signal_frame_bytes = 0;
  // Resident memory one parked ULT with a kDefaultStackSize stack adds to
  // the process (its touched stack pages: control block, task, the frames
  // it parked with), from the RSS growth over kParkedUlts of them; 0 when
  // /proc/self/statm cannot be read.
  double parked_ult_bytes = 0;
  // How long calibrate() took, in seconds.
  double seconds = 0;
};

// Measures on this machine, with runtimes of 1 worker each: about half a
// second natively. Call it from a kernel thread, with no other load if the
// figures are to mean anything (they are not asserted on: noise only makes
// them larger). Throws what Runtime throws (ResourceError); UsageError when
// called from a ULT.
Calibration calibrate();

// A configuration for a machine with topology `topo` and costs `c`, with the
// reason for each value. Deterministic: the same inputs give the same result.
struct Recommendation {
  unsigned workers = 0;
  std::string workers_reason;
  std::chrono::microseconds time_slice{1000};
  std::string time_slice_reason;
  std::size_t stack_size = kDefaultStackSize;
  std::string stack_size_reason;
  SchedulerKind scheduler = SchedulerKind::WorkStealing;
  std::string scheduler_reason;

  // `base` with the four fields above set.
  Config apply(Config base = {}) const;
  // Shell lines that Config::from_env() reads back as these four values:
  //   export QUANTA_WORKERS=2
  //   export QUANTA_TIME_SLICE_US=400
  //   export QUANTA_STACK_SIZE=64K
  //   export QUANTA_SCHEDULER=work_stealing
  std::string env() const;
};

Recommendation recommend(const Calibration& c, const Topology& topo);

// The export lines of env() for any Config's workers, time_slice,
// stack_size and scheduler.
std::string env_lines(const Config& cfg);

// Export lines for every other setting Config::from_env() reads whose value
// in `cfg` is not the default's (QUANTA_PRIORITY_TIME_SLICES, QUANTA_PREEMPT,
// QUANTA_STACK_GUARD, QUANTA_SWITCH_TARGET_NS, QUANTA_SCHEDTRACE,
// QUANTA_METRICS, QUANTA_THREAD_METRICS, QUANTA_TRACE, QUANTA_TRACE_BUFFER,
// in that order); empty for a default Config. With env_lines() they are the
// whole Config as the environment gives it: a profile appears as the values
// it set. `topology` has no variable and is not printed.
std::string changed_env_lines(const Config& cfg);

// `s` as one shell word: unchanged when it has only characters no shell
// treats specially, else in single quotes ('\'' for a quote inside).
std::string shell_quote(const std::string& s);

}  // namespace tune
}  // namespace quanta
