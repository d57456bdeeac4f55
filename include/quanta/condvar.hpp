// quanta — CondVar: a condition variable for quanta::Mutex.
#pragma once
#include <chrono>
#include <condition_variable>  // std::cv_status
#include <cstdint>
#include <mutex>
#include <string>

#include "quanta/detail/sync_base.hpp"
#include "quanta/error.hpp"
#include "quanta/mutex.hpp"

namespace quanta {

// A condition variable used with std::unique_lock<quanta::Mutex>, like
// std::condition_variable with std::unique_lock<std::mutex>. Waiting parks a
// ULT (blocks a kernel thread); ULTs and kernel threads may wait on and
// notify the same CondVar.
//
// Waiters are woken in the order they started waiting. A wait returns only
// when notified or, for the timed waits, when its deadline has passed; there
// are no spurious wake-ups, though the predicate overloads are still the way
// to wait for a condition. A timed wait that times out at the moment a
// notify_one() picks it is either notified or timed out, never both: a
// notify_one() that finds its waiter timed out notifies the next one.
// notify_one() and notify_all() with nobody waiting are one atomic load.
//
// The wait functions throw UsageError when the lock does not own its mutex.
class CondVar {
 public:
  constexpr CondVar() noexcept = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Wakes the oldest waiter, if any.
  void notify_one() noexcept {
    if (q_.head.load(std::memory_order_acquire)) detail::condvar_notify(q_, false);
  }
  // Wakes every waiter.
  void notify_all() noexcept {
    if (q_.head.load(std::memory_order_acquire)) detail::condvar_notify(q_, true);
  }

  // Releases lk's mutex, waits for a notification, re-locks.
  void wait(std::unique_lock<Mutex>& lk) { wait_ns(lk, detail::kNoDeadline, "wait"); }

  // Waits until pred() holds (checked with the lock held).
  template <class Pred>
  void wait(std::unique_lock<Mutex>& lk, Pred pred) {
    while (!pred()) wait(lk);
  }

  // As wait(), for at most `d`: std::cv_status::timeout when it passed
  // without a notification.
  template <class Rep, class Period>
  std::cv_status wait_for(std::unique_lock<Mutex>& lk, const std::chrono::duration<Rep, Period>& d) {
    return wait_ns(lk, detail::deadline_after(d), "wait_for") ? std::cv_status::no_timeout
                                                              : std::cv_status::timeout;
  }

  // Waits until pred() holds or `d` has passed; returns pred().
  template <class Rep, class Period, class Pred>
  bool wait_for(std::unique_lock<Mutex>& lk, const std::chrono::duration<Rep, Period>& d, Pred pred) {
    return wait_pred(lk, detail::deadline_after(d), pred, "wait_for");
  }

  // As wait(), until `tp` (any clock; others than steady_clock are converted
  // by their distance from now).
  template <class Clock, class Duration>
  std::cv_status wait_until(std::unique_lock<Mutex>& lk,
                            const std::chrono::time_point<Clock, Duration>& tp) {
    return wait_ns(lk, detail::deadline_at(tp), "wait_until") ? std::cv_status::no_timeout
                                                              : std::cv_status::timeout;
  }

  // Waits until pred() holds or `tp` has passed; returns pred().
  template <class Clock, class Duration, class Pred>
  bool wait_until(std::unique_lock<Mutex>& lk, const std::chrono::time_point<Clock, Duration>& tp,
                  Pred pred) {
    return wait_pred(lk, detail::deadline_at(tp), pred, "wait_until");
  }

 private:
  // True when notified, false when the deadline passed first.
  bool wait_ns(std::unique_lock<Mutex>& lk, std::int64_t deadline_ns, const char* fn) {
    if (!lk.owns_lock()) {
      throw UsageError(std::string("quanta::CondVar::") + fn +
                       ": the unique_lock does not own a mutex; expected a locked "
                       "std::unique_lock<quanta::Mutex>");
    }
    Mutex& m = *lk.mutex();
#if QUANTA_SYNC_CHECKS
    detail::mutex_check_unlock(m.owner_);
#endif
    const bool notified = detail::condvar_wait(q_, m.core_, deadline_ns);
#if QUANTA_SYNC_CHECKS
    m.owner_.store(detail::sync_self(), std::memory_order_relaxed);
#endif
    return notified;
  }

  template <class Pred>
  bool wait_pred(std::unique_lock<Mutex>& lk, std::int64_t deadline_ns, Pred& pred, const char* fn) {
    while (!pred()) {
      if (!wait_ns(lk, deadline_ns, fn)) return pred();
    }
    return true;
  }

  detail::WaitQueue q_;
};

}  // namespace quanta
