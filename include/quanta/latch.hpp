// quanta — Latch: a single-use countdown, as std::latch.
#pragma once
#include <atomic>
#include <cstdint>

#include "quanta/detail/sync_base.hpp"

namespace quanta {

// A count that only goes down; once it reaches 0 every wait() returns and
// stays returning. Waiting parks a ULT (blocks a kernel thread); ULTs and
// kernel threads may share one. count_down() is one atomic read-modify-write
// unless it brings the count to 0 while someone waits, which wakes every
// waiter.
class Latch {
 public:
  // ConfigError unless 0 <= expected <= 2^61.
  explicit Latch(std::int64_t expected) {
    detail::latch_check(expected);
    core_.word.store(static_cast<std::uint64_t>(expected) << 1, std::memory_order_relaxed);
  }
  Latch(const Latch&) = delete;
  Latch& operator=(const Latch&) = delete;

  // Decrements the count by n. UsageError, with the count unchanged, when
  // n < 0 or n is more than what remains.
  void count_down(std::int64_t n = 1) {
    if (n >= 0)
      detail::count_add(core_, -n, n, detail::CountOp::LatchCountDown);
    else
      detail::count_add_slow(core_, n, detail::CountOp::LatchCountDown);
  }

  // True once the count is 0.
  [[nodiscard]] bool try_wait() const noexcept {
    return (core_.word.load(std::memory_order_acquire) >> 1) == 0;
  }

  // Waits until the count is 0.
  void wait() noexcept {
    if (core_.word.load(std::memory_order_acquire) >> 1) detail::count_wait_slow(core_);
  }

  // count_down(n), then wait().
  void arrive_and_wait(std::int64_t n = 1) {
    count_down(n);
    wait();
  }

 private:
  detail::CountCore core_;
};

}  // namespace quanta
