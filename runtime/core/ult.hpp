// quanta — the ULT control block.
//
// It lives at the top of the ULT's own stack (no separate allocation), above
// its task and its name. It is freed — the whole stack goes back to the pool —
// when two references are gone:
//   * the execution reference, dropped by whichever context runs right after
//     the ULT's final switch (never by the ULT itself: it cannot free the stack
//     it stands on), and
//   * the handle reference, dropped by JoinHandle::join/detach/destructor.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "quanta/detail/task.hpp"
#include "stack/stack.hpp"

namespace quanta::detail {

struct Worker;
struct RuntimeCore;
struct UltLocalSlot;
struct UltProfile;

// Ult::observe flags: what switch_to records for the ULT beyond its counters.
inline constexpr std::uint8_t kObserveTime = 1;  // its run time (Config::thread_metrics)
inline constexpr std::uint8_t kObserveHw = 2;    // hardware counters (profiling(true))

// The part of the C++ ABI's per-thread exception state that must travel with
// a ULT: the chain of exceptions being handled (a ULT may be switched out
// inside a catch block) and the count of exceptions in flight.
struct EhState {
  void* caught = nullptr;
  unsigned int uncaught = 0;
};

struct Ult {
  void* sp = nullptr;           // saved context (arch/context.h)
  Ult* next = nullptr;          // link in a run queue, inbox or wait list
  Worker* worker = nullptr;     // the worker it runs or last ran on
  // Position of its armed timer in the heap of the worker that armed it, -1
  // when none. Touched only by that worker (Worker::add_timer/remove_timer).
  std::int32_t timer_slot = -1;
  RuntimeCore* rt = nullptr;
  TaskBase* task = nullptr;
  std::uint64_t id = 0;
  int priority = kDefaultPriority;
  std::uint8_t place = 0;       // kPlace* flags (core/placement.hpp); 0 for most ULTs
  const char* name = nullptr;   // NUL-terminated, in the ULT's memory; may be null
  StackMem stack;               // null base for a worker's own (kernel) context
  const std::uint64_t* canary = nullptr;  // canary stacks only
  EhState eh;
  int saved_errno = 0;  // errno is per kernel thread; it travels with the ULT
  UltLocalSlot* locals = nullptr;  // UltLocal<T> values of this ULT
  void* asan_fake_stack = nullptr;

  // Placement (core/placement.hpp): bitmaps of the runtime's workers, bit i
  // for worker i. `allowed`: where the ULT may run (null: anywhere);
  // `prefer`: where a spawn puts it (null: as allowed). They live in the
  // ULT's own memory or the runtime's; `allowed` changes only while the ULT
  // runs (MigrationPolicy::Prohibited binds it at its first run).
  const std::uint64_t* allowed = nullptr;
  const std::uint64_t* prefer = nullptr;

  // Preemption. no_preempt > 0 while the ULT runs runtime code or is inside
  // a NoPreempt scope; a fresh ULT starts inside the runtime. Only the
  // ULT's own kernel thread (and its signal handler) touches these.
  std::atomic<std::uint32_t> no_preempt{1};
  std::atomic<bool> preempt_pending{false};  // a deferred preemption to take
  std::atomic<std::uint64_t> preempt_taken{0};  // owner writes, anyone reads
  std::uint64_t preempt_deferred = 0;
  std::uint64_t preempt_deferred_taken = 0;
  // Rcu read sections the ULT is inside (counted by guards built with
  // QUANTA_SYNC_CHECKS); yield and park abort while it is not 0.
  std::uint32_t rcu_read_depth = 0;
  // Switched out by the preemption handler and not resumed yet: it will
  // return through rt_sigreturn, which restores its own signal mask.
  bool in_signal = false;

  // Per-ULT metrics (ThreadMetrics), written by the worker running the ULT
  // and read by anyone (relaxed: a recent snapshot). `runs` counts the times
  // it was switched in; the others are kept for observed ULTs only: run time
  // in cycle-counter ticks, the tick it was last switched in (0 while it
  // does not run) and the tick it was spawned.
  std::uint8_t observe = 0;  // kObserve* flags
  std::atomic<std::uint64_t> runs{0};
  std::atomic<std::uint64_t> run_ticks{0};
  std::atomic<std::uint64_t> run_since{0};
  std::uint64_t born_ticks = 0;
  UltProfile* profile = nullptr;  // hardware counts (kObserveHw)

  std::atomic<std::uint32_t> refs{2};  // execution + handle
  std::atomic<std::uint32_t> done{0};  // 1 once the task has run (futex word)
  std::atomic<Ult*> waiter{nullptr};   // the joiner, kKernelWaiter, or kDoneMark
};

// Markers stored in Ult::waiter.
inline Ult* const kKernelWaiter = reinterpret_cast<Ult*>(std::uintptr_t{1});
inline Ult* const kDoneMark = reinterpret_cast<Ult*>(std::uintptr_t{2});

}  // namespace quanta::detail
