// quanta — WaitGroup: wait for a group of tasks to finish, as Go's sync.WaitGroup.
#pragma once
#include <atomic>
#include <cstdint>

#include "quanta/detail/sync_base.hpp"

namespace quanta {

// A counter of outstanding tasks. add(n) before starting n tasks, done() as
// each finishes, wait() until the counter is back to 0. Waiting parks a ULT
// (blocks a kernel thread); any mix of ULTs and kernel threads may add, finish
// and wait. A WaitGroup may be reused once every wait() of the previous round
// has returned.
//
// add() and done() are one atomic read-modify-write unless they bring the
// counter to 0 while someone waits, which wakes every waiter.
class WaitGroup {
 public:
  constexpr WaitGroup() noexcept = default;
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;

  // Adds delta (may be negative) to the counter. UsageError, with the counter
  // unchanged, when it would drop below 0 or exceed 2^61.
  void add(std::int64_t delta) {
    detail::count_add(core_, delta, delta, detail::CountOp::WaitGroupAdd);
  }

  // add(-1): one task finished. UsageError when the counter is already 0.
  void done() { detail::count_add(core_, -1, -1, detail::CountOp::WaitGroupDone); }

  // Waits until the counter is 0; returns at once if it is.
  void wait() noexcept {
    if (core_.word.load(std::memory_order_acquire) >> 1) detail::count_wait_slow(core_);
  }

  // The counter now (a snapshot).
  std::int64_t count() const noexcept {
    return static_cast<std::int64_t>(core_.word.load(std::memory_order_relaxed) >> 1);
  }

 private:
  detail::CountCore core_;
};

}  // namespace quanta
