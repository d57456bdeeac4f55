// quanta — preemption: scopes that must not be preempted, code that may be,
// and the counters.
//
// A ULT that runs longer than Config::time_slice while other ULTs wait for its
// worker is interrupted by a signal (SIGURG) and, when the interrupted code is
// at a safe point, switched out. See docs/preemption.md for the mechanism,
// what counts as a safe point and what applications may observe (EINTR).
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace quanta {

class Runtime;

// While one exists on a ULT, that ULT is not preempted: a preemption that
// arrives is deferred and taken when the outermost scope ends. Nestable,
// cheap (two stores), usable on kernel threads (where it does nothing). The
// ULT may still yield, park or sleep inside the scope.
class NoPreempt {
 public:
  NoPreempt() noexcept;
  ~NoPreempt();
  NoPreempt(const NoPreempt&) = delete;
  NoPreempt& operator=(const NoPreempt&) = delete;

 private:
  void* ult_;
};

// By default only code of the main executable is preempted; code in shared
// objects (libc, libstdc++, the dynamic linker, the vDSO, other libraries)
// is not, since it may hold locks or thread-bound state. This adds the
// executable segments of every loaded object whose path contains `fragment`
// (e.g. "libmykernels.so"). Returns how many objects matched; ConfigError when
// none did. Callable from any thread, at any time.
unsigned allow_preemption_in(std::string_view fragment);

// Counters of one worker (or, from this_thread::preemption_counters, of one
// ULT). Every signal that arrives is counted exactly once: as taken on the
// spot, as `deferred` or as `ignored`. So on a worker
//   sent == (taken - deferred_taken) + deferred + ignored + in flight,
// where "in flight" are signals not delivered yet and signals the kernel
// merged with one still pending (a thread the kernel did not run for a
// while); the monitor's back-off keeps those rare.
struct PreemptionCounters {
  // Signals the monitor sent (per worker only).
  std::uint64_t sent = 0;
  // Preemptions that switched a ULT out: at the signal, or later, where a
  // deferred one was taken (the end of a NoPreempt scope or runtime call).
  std::uint64_t taken = 0;
  // Signals that arrived while the ULT could not be preempted (in the
  // runtime, in a NoPreempt scope, or in code outside the preemptible
  // objects); the ULT is then switched out at its next safe chance.
  std::uint64_t deferred = 0;
  // Of `taken`, those taken later after a deferral.
  std::uint64_t deferred_taken = 0;
  // Signals that arrived with nothing to preempt: the ULT had already
  // switched out or no other ULT waited any more (per worker only).
  std::uint64_t ignored = 0;
};

struct PreemptionStats {
  PreemptionCounters total;
  std::vector<PreemptionCounters> per_worker;
};

// The runtime's counters. Callable from any thread.
PreemptionStats preemption_stats(const Runtime& rt);

namespace this_thread {
// Preemptions taken, deferred and deferred_taken of the calling ULT so far
// (all 0 on a kernel thread; `sent` and `ignored` are counted per worker
// only).
PreemptionCounters preemption_counters() noexcept;
}  // namespace this_thread

}  // namespace quanta
