// quanta — what the runtime is doing: counters, switch latency, memory.
//
// Every counter is kept per worker, written by that worker only and read
// without stopping it, so a reading is a recent snapshot, not an atomic
// one: counters read together may be a few events apart.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace quanta {

class Runtime;

// The latency of a context switch: from the scheduler's pick of the next
// ULT to that ULT running (the pick, the switch's bookkeeping and the
// register switch), measured with the cycle counter on one switch in 32 and
// converted to ns with a rate calibrated against the steady clock.
struct ContextSwitchStats {
  std::uint64_t switches = 0;         // switches made (all of them)
  std::uint64_t samples = 0;          // switches measured
  double average_switch_time_ns = 0;  // mean of the samples
  double p50_ns = 0;                  // median, within 1/16 (the bucket width)
  double p99_ns = 0;
  double tick_ns = 0;                 // the cycle counter's resolution
  double target_ns = 0;               // Config::switch_target of the runtime
  bool meets_target = false;          // samples > 0 and p50_ns <= target_ns
};

// The stats of one runtime.
ContextSwitchStats context_switch_stats(const Runtime& rt);
// The stats of every live runtime together (the target is the smallest of
// theirs); all zero when none is alive.
ContextSwitchStats context_switch_stats();

// One worker's counters since its runtime started.
struct WorkerMetrics {
  unsigned index = 0;
  int cpu = -1;                      // the PU it runs on (-1: not pinned)
  std::uint64_t switches = 0;        // every switch between contexts
  std::uint64_t yields = 0;          // this_thread::yield() calls that switched
  std::uint64_t preemptions = 0;     // ULTs switched out by preemption
  std::uint64_t steals = 0;          // takes of ULTs queued on another worker
                                     // (round-robin: hand-overs to an idle one)
  std::uint64_t parks = 0;           // times the kernel thread went to sleep
  std::uint64_t spawns = 0;          // ULTs spawned from this worker
  std::uint64_t finished = 0;        // ULTs that ended on this worker
  std::size_t run_queue = 0;         // runnable ULTs waiting in its own queues
  bool busy = false;                 // running a ULT (else looking or asleep)
  bool parked = false;               // asleep in the kernel
};

// The state of the runtime(s) now.
struct SystemMetrics {
  std::uint64_t total_switches = 0;
  double average_switch_time_ns = 0;  // as context_switch_stats()
  std::uint64_t live_ults = 0;        // spawned and not finished
  std::size_t runnable = 0;           // waiting in any queue (approximate)
  std::size_t shared_queue = 0;       // of which in queues every worker takes from
  unsigned workers_busy = 0;
  unsigned workers_idle = 0;
  std::vector<WorkerMetrics> workers;
  // Memory, process-wide: stacks mapped by the stack pool (usable bytes; ULT
  // control blocks live at their tops), of which cached with their pages
  // returned to the kernel, address space reserved by MemoryPool and
  // ObjectPool classes, and the process's resident set (from
  // /proc/self/statm; 0 where unreadable).
  std::size_t stack_bytes = 0;
  std::size_t stack_bytes_released = 0;
  std::size_t pool_bytes_reserved = 0;
  std::size_t rss_bytes = 0;

  // Of every live runtime together (workers listed runtime by runtime).
  static SystemMetrics current();
  // Of one runtime (memory figures stay process-wide).
  static SystemMetrics of(const Runtime& rt);
};

// Hardware counts of one ULT, counted only while it ran (user space only:
// what perf_event_paranoid 2, the usual default, allows). A field is empty
// when the count is not available: the ULT was not profiled, or the kernel,
// the VM or the emulator refused the event; `unavailable` then says which
// and why. Never a zero in place of a missing count.
struct HardwareCounters {
  std::optional<std::uint64_t> cycles;
  std::optional<std::uint64_t> instructions;
  std::optional<std::uint64_t> cache_misses;
  std::optional<std::uint64_t> branch_misses;
  std::optional<std::uint64_t> page_faults;
  std::string unavailable;  // empty when every field has a value
};

// What one ULT has done so far. A snapshot read while the ULT may be running
// on another worker: fields read together may be a few events apart.
struct ThreadMetrics {
  std::uint64_t id = 0;
  std::string name;                  // ThreadBuilder::name, or empty
  bool finished = false;             // its function has returned
  std::uint64_t switches = 0;        // times it was switched in (runs started)
  std::uint64_t preemptions = 0;     // times it was switched out by preemption
  // Time it ran on workers, its age (since spawn) and run_time / age. Timed
  // only with Config::thread_metrics or ThreadBuilder::profiling(true);
  // empty otherwise. A run in progress counts up to now.
  std::optional<std::chrono::nanoseconds> run_time;
  std::optional<std::chrono::nanoseconds> age;
  std::optional<double> cpu_utilization;
  bool profiled = false;             // spawned with ThreadBuilder::profiling(true)
  // Profiled ULTs: counts of its finished runs (and, for current(), of the
  // run in progress).
  HardwareCounters hardware;

  // The ULT with this id (JoinHandle::id(), this_thread::id()), of any
  // runtime, from its spawn until its memory is released (it finished and
  // its handle was joined, detached or dropped); std::nullopt otherwise. A
  // diagnostic call: it scans every ULT stack mapped, under a lock.
  static std::optional<ThreadMetrics> for_thread(std::uint64_t id);
  // The calling ULT. Throws UsageError on a kernel thread.
  static ThreadMetrics current();
};

}  // namespace quanta
