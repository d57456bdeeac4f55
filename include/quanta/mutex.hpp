// quanta — Mutex: a lock that parks the ULT waiting for it.
#pragma once
#include <atomic>
#include <cstdint>

#include "quanta/detail/sync_base.hpp"

namespace quanta {

class CondVar;

// A mutual-exclusion lock for ULTs and kernel threads. A ULT that finds it
// held parks (its worker runs other ULTs) instead of blocking the worker's
// kernel thread; a kernel thread that finds it held sleeps on a futex. Both
// may contend for one Mutex. Meets the Lockable requirements, so it works
// with std::lock_guard, std::unique_lock and std::scoped_lock.
//
// Uncontended lock() and unlock() are one atomic instruction each. Under
// contention a locker spins briefly, then queues; waiters are woken in FIFO
// order and compete with newcomers, except that a waiter that has already
// lost once and has waited for more than a millisecond is handed the lock
// directly, so nobody starves.
//
// Use this, not std::mutex, for locks that ULTs hold: a ULT preempted while
// holding a std::mutex blocks the kernel thread of every ULT that then tries
// to take it, and if that is the holder's own worker, it never runs again.
//
// Not recursive. With QUANTA_SYNC_CHECKS (on unless NDEBUG), unlock() by a
// thread that does not hold it, a recursive lock() and destroying a locked
// Mutex print a message naming the caller and the owner and abort; without
// them, unlocking an unlocked Mutex still aborts.
class Mutex {
 public:
  constexpr Mutex() noexcept = default;
  ~Mutex() {
#if QUANTA_SYNC_CHECKS
    detail::mutex_check_destroy(core_, owner_);
#endif
  }
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // Takes the lock; parks (ULT) or blocks (kernel thread) while another holds it.
  void lock() noexcept {
#if QUANTA_SYNC_CHECKS
    detail::mutex_check_lock(owner_);
#endif
    std::uint32_t expected = 0;
    if (!core_.state.compare_exchange_strong(expected, detail::kMutexLocked,
                                             std::memory_order_acquire,
                                             std::memory_order_relaxed)) [[unlikely]]
      detail::mutex_lock_slow(core_);
#if QUANTA_SYNC_CHECKS
    owner_.store(detail::sync_self(), std::memory_order_relaxed);
#endif
  }

  // Takes the lock if it is free; never waits.
  [[nodiscard]] bool try_lock() noexcept {
    std::uint32_t s = core_.state.load(std::memory_order_relaxed);
    while (!(s & detail::kMutexLocked)) {
      if (core_.state.compare_exchange_weak(s, s | detail::kMutexLocked,
                                            std::memory_order_acquire,
                                            std::memory_order_relaxed)) {
#if QUANTA_SYNC_CHECKS
        owner_.store(detail::sync_self(), std::memory_order_relaxed);
#endif
        return true;
      }
    }
    return false;
  }

  // Releases the lock, waking the oldest waiter if there is one.
  void unlock() noexcept {
#if QUANTA_SYNC_CHECKS
    detail::mutex_check_unlock(owner_);
#endif
    std::uint32_t expected = detail::kMutexLocked;
    if (!core_.state.compare_exchange_strong(expected, 0, std::memory_order_release,
                                             std::memory_order_relaxed)) [[unlikely]]
      detail::mutex_unlock_slow(core_);
  }

 private:
  friend class CondVar;
  detail::MutexCore core_;
  // The holder (detail::sync_self()) while QUANTA_SYNC_CHECKS is on; 0 otherwise.
  std::atomic<std::uint64_t> owner_{0};
};

}  // namespace quanta
