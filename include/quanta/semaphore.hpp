// quanta — Semaphore: a counting semaphore that parks the ULT waiting on it.
#pragma once
#include <chrono>
#include <cstdint>

#include "quanta/detail/sync_base.hpp"

namespace quanta {

// A counting semaphore, like std::counting_semaphore with its maximum chosen
// at run time. acquire() takes one unit of the count, waiting while it is 0
// (a ULT parks, a kernel thread blocks); release(n) adds n units, handing them
// to waiters first, oldest first. ULTs and kernel threads may share one.
//
// Uncontended acquire() and release() are one atomic read-modify-write.
// Waiters are served strictly in arrival order: while anyone waits, a new
// acquire() queues behind them even if a unit was just released.
class Semaphore {
 public:
  // The largest maximum a Semaphore accepts (2^61).
  static constexpr std::int64_t kMaxCount = detail::kCountMax;

  // A semaphore holding `initial` units, never more than `max`. ConfigError
  // unless 0 <= initial <= max and 1 <= max <= kMaxCount.
  explicit Semaphore(std::int64_t initial = 0, std::int64_t max = kMaxCount) : max_(max) {
    detail::semaphore_check(initial, max);
    core_.word.store(static_cast<std::uint64_t>(initial) << 1, std::memory_order_relaxed);
  }
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  // Takes one unit, waiting for one if the count is 0.
  void acquire() noexcept {
    if (!fast_acquire()) [[unlikely]]
      detail::semaphore_acquire_slow(core_, detail::kNoDeadline);
  }

  // Takes one unit if the count is above 0 and nobody waits; never waits.
  [[nodiscard]] bool try_acquire() noexcept {
    std::uint64_t x = core_.word.load(std::memory_order_relaxed);
    while (x >= 2) {
      if (core_.word.compare_exchange_weak(x, x - 2, std::memory_order_acquire,
                                           std::memory_order_relaxed))
        return true;
    }
    return false;
  }

  // Takes one unit, waiting at most `d`; false if none came in time.
  template <class Rep, class Period>
  [[nodiscard]] bool try_acquire_for(const std::chrono::duration<Rep, Period>& d) noexcept {
    return fast_acquire() || detail::semaphore_acquire_slow(core_, detail::deadline_after(d));
  }

  // Takes one unit, waiting until `tp` at most (any clock); false if none came.
  template <class Clock, class Duration>
  [[nodiscard]] bool try_acquire_until(const std::chrono::time_point<Clock, Duration>& tp) noexcept {
    return fast_acquire() || detail::semaphore_acquire_slow(core_, detail::deadline_at(tp));
  }

  // Adds n units (n >= 0), waking up to n waiters. UsageError, with nothing
  // released, when n < 0 or when the count would exceed max().
  void release(std::int64_t n = 1) {
    std::uint64_t x = core_.word.load(std::memory_order_relaxed);
    if (n > 0 && !(x & detail::kCountWaiters) && n <= max_ - static_cast<std::int64_t>(x >> 1) &&
        core_.word.compare_exchange_strong(x, x + 2 * static_cast<std::uint64_t>(n),
                                           std::memory_order_release, std::memory_order_relaxed))
      return;
    detail::semaphore_release_slow(core_, max_, n);
  }

  // The units available now (a snapshot; 0 while anyone waits).
  std::int64_t available() const noexcept {
    return static_cast<std::int64_t>(core_.word.load(std::memory_order_relaxed) >> 1);
  }
  // The maximum given at construction.
  std::int64_t max() const noexcept { return max_; }

 private:
  bool fast_acquire() noexcept {
    std::uint64_t x = core_.word.load(std::memory_order_relaxed);
    return x >= 2 && core_.word.compare_exchange_strong(x, x - 2, std::memory_order_acquire,
                                                        std::memory_order_relaxed);
  }

  detail::CountCore core_;
  const std::int64_t max_;
};

}  // namespace quanta
