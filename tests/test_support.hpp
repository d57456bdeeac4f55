// quanta tests — helpers shared by the test files, and tests-only hooks into
// the runtime's internals (never part of the public API).
#pragma once
#include <quanta/quanta.hpp>

#include <chrono>
#include <thread>
#include <vector>

#include "core/runtime_core.hpp"

namespace quanta::test {

inline Config config(unsigned workers, bool preempt = false) {
  Config c;
  c.workers = workers;
  c.preempt = preempt;
  return c;
}

// The same with the work-stealing scheduler.
inline Config work_stealing(unsigned workers, bool preempt = false) {
  Config c = config(workers, preempt);
  c.scheduler = SchedulerKind::WorkStealing;
  return c;
}

// The same with the round-robin scheduler (priorities, strict FIFO order).
inline Config round_robin(unsigned workers, bool preempt = false) {
  Config c = config(workers, preempt);
  c.scheduler = SchedulerKind::RoundRobin;
  return c;
}

// A preemptive runtime configuration with the given slice.
inline Config preemptive(unsigned workers, std::chrono::microseconds slice) {
  Config c = config(workers, true);
  c.time_slice = slice;
  return c;
}

// Index of the worker running the calling ULT (tests only).
inline unsigned worker_index() {
  detail::Ult* u = detail::current_ult();
  return u ? u->worker->index : ~0u;
}

// Burns about n loop iterations in the calling code (not in any library), so
// that a preemption signal lands in preemptible code.
inline void burn(int n) {
  for (int k = 0; k < n; ++k) asm volatile("" ::: "memory");
}

// Waits (kernel thread) until pred() holds, polling; false after `limit`.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(20000)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

inline std::vector<detail::Worker*> workers_of(Runtime& rt) {
  std::vector<detail::Worker*> out;
  for (auto& w : rt.impl().workers) out.push_back(w.get());
  return out;
}

// The control block of the calling ULT (tests only).
inline detail::Ult* current_ult() { return detail::current_ult(); }

}  // namespace quanta::test
