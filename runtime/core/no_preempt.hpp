// quanta — marking code a ULT must not be preempted in.
//
// Every runtime entry point that touches worker-owned state (run queues, the
// stack cache, timers, the After fields) runs inside a RuntimeSection. The
// preemption signal handler runs on the interrupted ULT's own kernel thread and
// switches only when the ULT's no_preempt count is 0; otherwise it records a
// pending preemption that the outermost section takes on its way out.
//
// The count lives in the ULT, not the worker, so it travels with a ULT that
// switches (or migrates) inside a section. Invariant: a suspended ULT always
// has no_preempt >= 1 (every switch happens inside a section), and a fresh
// ULT starts with 1, so the window in switch_to where `current` already names
// the next ULT is never preempted.
//
// Only the ULT's own thread touches the count; signal fences keep the compiler
// from moving runtime work out of the section.
#pragma once
#include <atomic>

#include "core/ult.hpp"
#include "core/worker.hpp"

namespace quanta::detail {

inline void enter_no_preempt(Ult* u) noexcept {
  u->no_preempt.store(u->no_preempt.load(std::memory_order_relaxed) + 1,
                      std::memory_order_relaxed);
  std::atomic_signal_fence(std::memory_order_seq_cst);
}

// Takes a preemption deferred while the ULT could not be preempted: a yield
// counted as a preemption. Called with no_preempt == 0.
void take_pending_preemption(Ult* u) noexcept;

inline void leave_no_preempt(Ult* u) noexcept {
  std::atomic_signal_fence(std::memory_order_seq_cst);
  const std::uint32_t n = u->no_preempt.load(std::memory_order_relaxed) - 1;
  u->no_preempt.store(n, std::memory_order_relaxed);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  if (n == 0 && u->preempt_pending.load(std::memory_order_relaxed)) [[unlikely]]
    take_pending_preemption(u);
}

// The ULT running on worker w, or nullptr when w is null or runs its own
// context. Only for code that cannot be preempted (inside a section or a
// signal handler); elsewhere use current_ult().
inline Ult* running_ult(Worker* w) noexcept {
  return (w && w->current != &w->self) ? w->current : nullptr;
}

// Enters a section for the calling ULT. A ULT may be preempted (and moved to
// another worker) right up to the moment the section is entered, so a
// Worker* read before it may be stale: use worker(), read once inside.
//   RuntimeSection section;
//   Worker* w = section.worker();
class RuntimeSection {
 public:
  RuntimeSection() noexcept : u_(current_ult()) {
    if (u_) {
      enter_no_preempt(u_);
      w_ = u_->worker;  // current: a ULT in a section is not moved
    } else {
      w_ = current_worker();
    }
  }
  ~RuntimeSection() {
    if (u_) leave_no_preempt(u_);
  }
  RuntimeSection(const RuntimeSection&) = delete;
  RuntimeSection& operator=(const RuntimeSection&) = delete;

  // The calling thread's worker (nullptr on a kernel thread). Valid until the
  // section's code switches; after a switch re-read current_worker().
  Worker* worker() const noexcept { return w_; }
  Ult* ult() const noexcept { return u_; }

 private:
  Ult* u_;
  Worker* w_ = nullptr;
};

}  // namespace quanta::detail
