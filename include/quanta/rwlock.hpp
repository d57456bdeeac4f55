// quanta — RwLock: a reader-writer lock that parks the ULT waiting for it.
#pragma once
#include <atomic>
#include <cstdint>

#include "quanta/detail/sync_base.hpp"

namespace quanta {

// Any number of readers or one writer. Meets the SharedLockable
// requirements: use std::unique_lock / std::lock_guard for writing and
// std::shared_lock for reading. Waiting parks a ULT (blocks a kernel thread);
// ULTs and kernel threads may share one.
//
// Uncontended lock(), unlock(), lock_shared() and unlock_shared() are one
// atomic read-modify-write each. Fair: once anyone waits, new readers queue
// too, so a stream of readers cannot keep a writer out; waiters are served in
// arrival order, a writer alone, consecutive readers together.
//
// Not recursive and not upgradable: a reader that asks for the write lock
// waits for itself.
class RwLock {
 public:
  constexpr RwLock() noexcept = default;
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;

  // Takes the lock for writing.
  void lock() noexcept {
    std::uint64_t expected = 0;
    if (!core_.word.compare_exchange_strong(expected, detail::kRwWriter, std::memory_order_acquire,
                                            std::memory_order_relaxed)) [[unlikely]]
      detail::rwlock_lock_slow(core_);
  }

  // Takes the lock for writing if nobody holds it or waits for it.
  [[nodiscard]] bool try_lock() noexcept {
    std::uint64_t expected = 0;
    return core_.word.compare_exchange_strong(expected, detail::kRwWriter,
                                              std::memory_order_acquire, std::memory_order_relaxed);
  }

  // Releases the write lock. Aborts when no writer holds it.
  void unlock() noexcept {
    std::uint64_t expected = detail::kRwWriter;
    if (!core_.word.compare_exchange_strong(expected, 0, std::memory_order_release,
                                            std::memory_order_relaxed)) [[unlikely]]
      detail::rwlock_unlock_slow(core_);
  }

  // Takes the lock for reading.
  void lock_shared() noexcept {
    std::uint64_t x = core_.word.load(std::memory_order_relaxed);
    if ((x & (detail::kRwWriter | detail::kRwWaiters)) ||
        !core_.word.compare_exchange_strong(x, x + detail::kRwReader, std::memory_order_acquire,
                                            std::memory_order_relaxed)) [[unlikely]]
      detail::rwlock_lock_shared_slow(core_);
  }

  // Takes the lock for reading if no writer holds it and nobody waits.
  [[nodiscard]] bool try_lock_shared() noexcept {
    std::uint64_t x = core_.word.load(std::memory_order_relaxed);
    while (!(x & (detail::kRwWriter | detail::kRwWaiters))) {
      if (core_.word.compare_exchange_weak(x, x + detail::kRwReader, std::memory_order_acquire,
                                           std::memory_order_relaxed))
        return true;
    }
    return false;
  }

  // Releases a read lock; the last reader out lets the next waiter in.
  // Aborts when no reader holds it.
  void unlock_shared() noexcept {
    const std::uint64_t prev = core_.word.fetch_sub(detail::kRwReader, std::memory_order_acq_rel);
    if (prev < detail::kRwReader) [[unlikely]]
      detail::rwlock_unlock_shared_unheld();
    if (prev - detail::kRwReader == detail::kRwWaiters) [[unlikely]]
      detail::rwlock_unlock_shared_slow(core_);
  }

 private:
  detail::RwLockCore core_;
};

}  // namespace quanta
