// quanta — the live runtimes, for process-wide metrics, and the rate of the
// cycle counter.
#pragma once
#include <cstdint>
#include <mutex>
#include <vector>

namespace quanta::detail {

struct RuntimeCore;

// Called by Runtime once its workers run / before it stops them.
void register_runtime(RuntimeCore* rt);
void unregister_runtime(RuntimeCore* rt);

// Calls fn(rt) for every live runtime, with the registry locked (a runtime
// cannot finish unregistering meanwhile).
template <class F>
void for_each_runtime(F&& fn);

// Cycle-counter ticks per nanosecond: the rate measured between the first
// runtime's start and now (at least 10 ms apart: the first call may sleep
// until then); fixed once measured over at least a second.
double ticks_per_ns();

// The registry itself (for for_each_runtime).
std::mutex& registry_mutex();
std::vector<RuntimeCore*>& registry();

template <class F>
void for_each_runtime(F&& fn) {
  std::lock_guard lk(registry_mutex());
  for (RuntimeCore* rt : registry()) fn(rt);
}

}  // namespace quanta::detail
