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

// Counters of one worker. `sent`: signals the monitor sent to it. `taken`:
// preemptions that switched a ULT out. `deferred`: signals that arrived when
// the ULT could not be preempted (in the runtime, in a NoPreempt scope, or in
// code outside the preemptible objects).
struct PreemptionCounters {
  std::uint64_t sent = 0;
  std::uint64_t taken = 0;
  std::uint64_t deferred = 0;
};

struct PreemptionStats {
  PreemptionCounters total;
  std::vector<PreemptionCounters> per_worker;
};

// The runtime's counters. Callable from any thread.
PreemptionStats preemption_stats(const Runtime& rt);

namespace this_thread {
// Preemptions taken and deferred by the calling ULT so far ({0, 0, 0} on a
// kernel thread; `sent` is not counted per ULT).
PreemptionCounters preemption_counters() noexcept;
}  // namespace this_thread

}  // namespace quanta
