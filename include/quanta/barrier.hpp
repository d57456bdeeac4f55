// quanta — Barrier: a reusable rendezvous of a fixed number of participants.
#pragma once
#include <cstdint>

#include "quanta/detail/sync_base.hpp"

namespace quanta {

// Each phase completes when `expected` participants have arrived; then every
// waiter of the phase is released and the next phase starts with the same
// number of participants (minus those that dropped out). Like std::barrier
// without a completion function. Waiting parks a ULT (blocks a kernel
// thread); ULTs and kernel threads may share one.
class Barrier {
 public:
  // ConfigError unless 1 <= expected <= 2^61.
  explicit Barrier(std::int64_t expected) { detail::barrier_init(core_, expected); }
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  // Arrives and waits for the phase to complete. Returns true in exactly one
  // participant per phase, the last to arrive (which does not wait), false
  // in the others. UsageError when every participant has dropped out.
  bool arrive_and_wait() { return detail::barrier_arrive(core_, true, false); }

  // Arrives without waiting and leaves: later phases expect one participant
  // fewer. UsageError when every participant has dropped out already.
  void arrive_and_drop() { detail::barrier_arrive(core_, false, true); }

 private:
  detail::BarrierCore core_;
};

}  // namespace quanta
