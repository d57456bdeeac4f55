// quanta — Barrier: arrivals counted under the queue's lock; the last
// arrival of a phase releases everyone queued in it and resets the count.
#include <string>

#include "core/no_preempt.hpp"
#include "quanta/barrier.hpp"
#include "quanta/error.hpp"
#include "sync/wait.hpp"

namespace quanta::detail {

void barrier_init(BarrierCore& b, std::int64_t expected) {
  if (expected < 1 || expected > kCountMax) {
    throw ConfigError("quanta::Barrier: " + std::to_string(expected) +
                      " participants is outside the accepted range [1, " +
                      std::to_string(kCountMax) + "]");
  }
  b.expected = expected;
  b.remaining = expected;
}

bool barrier_arrive(BarrierCore& b, bool wait, bool drop) {
  RuntimeSection section;
  Waiter w(section.ult());
  WakeList wl;
  bool last = false;
  {
    QueueLock lk(b.q);
    if (b.expected == 0) {
      throw UsageError(std::string("quanta::Barrier::") +
                       (drop ? "arrive_and_drop" : "arrive_and_wait") +
                       ": every participant has dropped out; expected at most as many "
                       "arrive_and_drop() calls as participants");
    }
    if (drop) --b.expected;
    if (--b.remaining > 0) {
      if (!wait) return false;
      push_back(b.q, &w);
    } else {
      // The phase is complete: release it; the next one starts now.
      b.remaining = b.expected;
      while (Waiter* x = pop_front(b.q)) claim(x, wl);
      last = true;
    }
  }
  if (last) {
    wl.wake_all();
    return true;
  }
  await(w);  // no deadline: released with the phase
  return false;
}

}  // namespace quanta::detail
