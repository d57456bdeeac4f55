// quanta tests — helpers shared by the test files, and tests-only hooks into
// the runtime's internals (never part of the public API).
#pragma once
#include <quanta/quanta.hpp>

#include <vector>

#include "core/runtime_core.hpp"

namespace quanta::test {

inline Config config(unsigned workers, bool preempt = false) {
  Config c;
  c.workers = workers;
  c.preempt = preempt;
  return c;
}

inline std::vector<detail::Worker*> workers_of(Runtime& rt) {
  std::vector<detail::Worker*> out;
  for (auto& w : rt.impl().workers) out.push_back(w.get());
  return out;
}

// The control block of the calling ULT (tests only).
inline detail::Ult* current_ult() {
  detail::Worker* w = detail::current_worker();
  return (w && w->current != &w->self) ? w->current : nullptr;
}

}  // namespace quanta::test
