// quanta — runtime configuration.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace quanta {

class Topology;

// Which scheduling policy the runtime's workers use.
enum class SchedulerKind : std::uint8_t {
  // Per-worker FIFO run queues, one per priority level; the highest non-empty
  // level runs first (O(1) pick through a bitmap of non-empty levels).
  RoundRobin,
  // The default. Per-worker work-stealing deques (the newest spawned or
  // woken ULT runs next), a global queue for spawns from kernel threads, and
  // idle workers stealing half of a victim's queue, nearest victims first.
  // Priorities are accepted and not used: choose RoundRobin for them.
  WorkStealing,
};

// How ULT stacks detect overflow.
enum class StackGuard : std::uint8_t {
  // A PROT_NONE guard page below every stack while the process has memory
  // mappings to spare (each guarded stack costs two of vm.max_map_count),
  // canary stacks after that. The default.
  Auto,
  // Always a guard page; running out of mappings is a ResourceError.
  Page,
  // New stacks get no guard page: a canary word at the stack's low end,
  // checked each time the ULT switches out. Cheaper in mappings, detects
  // overflow later. (A pooled stack that has a guard page may still be
  // reused: it only adds protection.)
  Canary,
};

// Whether a ULT may change worker (ThreadBuilder::migration).
enum class MigrationPolicy : std::uint8_t {
  // The scheduler may run it on any worker it is allowed on (the default).
  Allowed,
  // Once it has started on a worker it runs only there: it is never stolen,
  // and yields, preemptions and wake-ups put it back on that worker.
  Prohibited,
};

// Priorities run from kMinPriority (lowest) to kMaxPriority (highest).
inline constexpr int kMinPriority = 0;
inline constexpr int kMaxPriority = 31;
inline constexpr int kDefaultPriority = 15;

// Stack sizes accepted per ULT. The minimum leaves room for the ULT's control
// block, a kernel signal frame with the full vector state (about 3 KiB with
// AVX-512) and ordinary C++ frames.
inline constexpr std::size_t kMinStackSize = 16 * 1024;
inline constexpr std::size_t kMaxStackSize = std::size_t{1} << 30;
inline constexpr std::size_t kDefaultStackSize = 64 * 1024;

// Time slices accepted (the slice a ULT may run before preemption).
inline constexpr std::chrono::microseconds kMinTimeSlice{100};
inline constexpr std::chrono::microseconds kMaxTimeSlice{10'000'000};

// Upper bound on workers; more than this is a ConfigError.
inline constexpr unsigned kMaxWorkers = 1024;

// Preset configurations for common goals (Config::profile, QUANTA_PROFILE).
// docs/api.md lists the fields each one sets, with the reason for each value.
enum class Profile : std::uint8_t {
  // Short time slices: a ULT that becomes ready waits less behind a spinning one.
  Latency,
  // Long time slices: fewer preemptions, more of the CPU for the ULTs' work.
  Throughput,
  // Small stacks: more ULTs per MiB of memory.
  MemoryConstrained,
  // Fewer workers, long slices, no stealing: less CPU spent by the runtime.
  CpuConstrained,
};

// The time slice of the ULTs of one priority level (see
// Config::priority_time_slices).
struct PrioritySlice {
  int priority;
  std::chrono::microseconds slice;
};

struct Config {
  // Kernel worker threads; 0 means one per CPU the process may run on.
  unsigned workers = 0;
  // Work stealing: fork-join and message passing run depth-first on all
  // workers. Round-robin when priorities or strict FIFO order matter
  // (docs/performance.md has both measured).
  SchedulerKind scheduler = SchedulerKind::WorkStealing;
  // How long a ULT may run before it is preempted.
  std::chrono::microseconds time_slice{1000};
  // Overrides of time_slice for single priority levels, e.g.
  // {{kMaxPriority, 200us}} preempts the most urgent ULTs sooner. Each level
  // at most once; each slice in the same range as time_slice.
  std::vector<PrioritySlice> priority_time_slices;
  // Whether overrunning ULTs are preempted.
  bool preempt = true;
  // Default stack size of a ULT, in bytes (rounded up to whole pages).
  std::size_t stack_size = kDefaultStackSize;
  StackGuard stack_guard = StackGuard::Auto;
  // The topology the workers are placed on; null = the machine's
  // (quanta::topology()). Read (copied) only while the Runtime is being
  // constructed, so it need not outlive that; Runtime::config().topology
  // points at the runtime's own copy (null only when the machine's topology
  // could not be read). Worker i gets the (i mod n)-th of its n PUs in ascending OS
  // index, and `workers == 0` means one per PU. Workers are pinned to their
  // PUs and stacks are bound to NUMA nodes only when this is the machine's
  // topology (equal to quanta::topology()); any other topology (e.g.
  // Topology::from_synthetic) places the workers logically: cpu_affinity,
  // numa_node and this_thread::numa_node() follow it, but the kernel runs the
  // threads wherever it likes. Not read from the environment.
  const Topology* topology = nullptr;
  // The switch latency context_switch_stats() compares its median with
  // (quanta/metrics.hpp); 1 ns .. 1 s.
  std::chrono::nanoseconds switch_target{100};
  // When non-zero, a line of scheduler state is printed to stderr at this
  // interval (like Go's GODEBUG=schedtrace); 0 or 1 ms .. 1 h.
  std::chrono::milliseconds schedtrace{0};
  // Switch-latency sampling (context_switch_stats): one switch in 32 is
  // timed with the cycle counter. Off, no switch is timed; the per-worker
  // and per-ULT counters are kept either way (they cost a store each).
  bool metrics = true;
  // Times every run of every ULT with the cycle counter (two reads per
  // switch), so ThreadMetrics reports run time and CPU utilisation for all
  // ULTs; off, only for ULTs spawned with ThreadBuilder::profiling(true).
  bool thread_metrics = false;
  // When not empty, every worker records its ULTs' run slices, spawns,
  // wake-ups and steals, and ~Runtime writes them to this file as a
  // Chrome/Perfetto JSON timeline (docs/tracing.md). The Runtime constructor
  // creates or truncates the file: a ConfigError if it cannot, or if another
  // Runtime alive in this process writes the same regular file.
  std::string trace_file;
  // Events each worker keeps while tracing, 64 .. 64 Mi (32 bytes each, in
  // memory touched only as it fills); beyond that the oldest are overwritten.
  std::size_t trace_buffer = std::size_t{1} << 20;

  // The defaults above, overridden by the environment:
  //   QUANTA_PROFILE        latency|throughput|memory_constrained|cpu_constrained
  //                         (applied first: the variables below override it)
  //   QUANTA_WORKERS        0..1024 (0 = one per CPU)
  //   QUANTA_SCHEDULER      round_robin|work_stealing
  //   QUANTA_TIME_SLICE_US  100..10000000
  //   QUANTA_PRIORITY_TIME_SLICES  priority:us[,priority:us...], e.g. "31:200,0:5000"
  //   QUANTA_PREEMPT        on|off|1|0|true|false
  //   QUANTA_STACK_SIZE     bytes, optional K/M/G suffix, 16K..1G
  //   QUANTA_STACK_GUARD    auto|page|canary
  //   QUANTA_SWITCH_TARGET_NS  1..1000000000
  //   QUANTA_SCHEDTRACE     milliseconds between lines, 0 (off) or 1..3600000
  //   QUANTA_METRICS        on|off|1|0|true|false
  //   QUANTA_THREAD_METRICS on|off|1|0|true|false
  //   QUANTA_TRACE          file to write the timeline to (trace_file)
  //   QUANTA_TRACE_BUFFER   events per worker, optional K/M suffix, 64..64M
  // An unset or empty variable keeps the default. A value that does not parse
  // or lies outside its range throws ConfigError naming the variable, the
  // value and the accepted range.
  static Config from_env();

  // The defaults above with the settings of profile p applied (workers,
  // scheduler, time_slice, preempt, stack_size, stack_guard; see
  // docs/api.md). Fields can be changed afterwards as usual. Throws
  // ConfigError for a value that is not a Profile.
  static Config profile(Profile p);

  // Throws ConfigError naming the first field outside its accepted range.
  void validate() const;
  // The slice of ULTs of priority p: its priority_time_slices entry, else
  // time_slice.
  std::chrono::microseconds time_slice_for(int priority) const noexcept;
};

}  // namespace quanta
