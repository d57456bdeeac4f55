// quanta — Semaphore slow paths.
//
// CountCore::word = count << 1 | kCountWaiters. The waiters bit is changed
// only under the queue's lock and is set exactly while the queue is
// non-empty; while it is set the count is 0 and every fast path fails (an
// acquire needs count >= 1, a release needs the bit clear), so the code
// under the lock may store the word instead of a CAS loop. A release with
// waiters hands its units to them directly, oldest first, and adds only the
// rest to the count: a waiter that is woken owns its unit already.
#include <string>

#include "core/no_preempt.hpp"
#include "quanta/error.hpp"
#include "quanta/semaphore.hpp"
#include "sync/wait.hpp"

namespace quanta::detail {

void semaphore_check(std::int64_t initial, std::int64_t max) {
  if (max < 1 || max > kCountMax) {
    throw ConfigError("quanta::Semaphore: max " + std::to_string(max) +
                      " is outside the accepted range [1, " + std::to_string(kCountMax) + "]");
  }
  if (initial < 0 || initial > max) {
    throw ConfigError("quanta::Semaphore: initial count " + std::to_string(initial) +
                      " is outside the accepted range [0, max = " + std::to_string(max) + "]");
  }
}

bool semaphore_acquire_slow(CountCore& s, std::int64_t deadline_ns) noexcept {
  // The fast path may only have lost a race with another acquirer.
  std::uint64_t y = s.word.load(std::memory_order_relaxed);
  while (y >= 2) {
    if (s.word.compare_exchange_weak(y, y - 2, std::memory_order_acquire,
                                     std::memory_order_relaxed))
      return true;
  }
  RuntimeSection section;
  Waiter w(section.ult(), deadline_ns);
  {
    QueueLock lk(s.q);
    std::uint64_t x = s.word.load(std::memory_order_relaxed);
    for (;;) {
      if (x >= 2) {
        if (s.word.compare_exchange_weak(x, x - 2, std::memory_order_acquire,
                                         std::memory_order_relaxed))
          return true;
      } else if (x == kCountWaiters ||
                 s.word.compare_exchange_weak(x, kCountWaiters, std::memory_order_relaxed,
                                              std::memory_order_relaxed)) {
        break;
      }
    }
    push_back(s.q, &w);
  }
  if (await(w)) return true;  // a release handed us a unit
  QueueLock lk(s.q);
  if (w.linked) {
    unlink(s.q, &w);
    if (empty(s.q)) s.word.store(0, std::memory_order_relaxed);  // count is 0 while waited on
  }
  return false;
}

void semaphore_release_slow(CountCore& s, std::int64_t max, std::int64_t n) {
  if (n < 0) {
    throw UsageError("quanta::Semaphore::release(" + std::to_string(n) +
                     "): expected a count of units >= 0");
  }
  if (n == 0) return;
  RuntimeSection section;
  WakeList wl;
  {
    QueueLock lk(s.q);
    std::uint64_t x = s.word.load(std::memory_order_relaxed);
    if (!(x & kCountWaiters)) {
      // Nobody waits: the fast path lost a race, or n is too large.
      for (;;) {
        const auto c = static_cast<std::int64_t>(x >> 1);
        if (n > max - c) {
          throw UsageError("quanta::Semaphore::release(" + std::to_string(n) + "): the count " +
                           std::to_string(c) + " would exceed the maximum " +
                           std::to_string(max) + "; expected at most " +
                           std::to_string(max - c) + " units");
        }
        if (s.word.compare_exchange_weak(x, x + 2 * static_cast<std::uint64_t>(n),
                                         std::memory_order_release, std::memory_order_relaxed))
          return;
        if (x & kCountWaiters) break;
      }
    }
    // Waiters: the count is 0 and nothing but us changes the word.
    if (n > max) {
      throw UsageError("quanta::Semaphore::release(" + std::to_string(n) +
                       "): the count 0 would exceed the maximum " + std::to_string(max) +
                       "; expected at most " + std::to_string(max) + " units");
    }
    while (n > 0) {
      Waiter* w = pop_front(s.q);
      if (!w) break;
      if (claim(w, wl)) --n;  // timed-out waiters take nothing
    }
    if (empty(s.q)) s.word.store(static_cast<std::uint64_t>(n) << 1, std::memory_order_release);
  }
  wl.wake_all();
}

}  // namespace quanta::detail
