// quanta — internals the synchronisation headers need: the storage of a wait
// queue, the state words of each primitive, deadline conversion and the
// out-of-line slow paths (runtime/sync/). Not part of the supported API; may
// change without notice.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <type_traits>

// Misuse checks of quanta::Mutex (unlock by a thread that does not hold it,
// recursive lock, destruction while locked): on unless NDEBUG is defined, like
// assert(). Define QUANTA_SYNC_CHECKS to 0 or 1 to choose explicitly. Use one
// setting in every translation unit that shares a Mutex: the owner a checked
// lock() records is only cleared by a checked unlock().
#ifndef QUANTA_SYNC_CHECKS
#ifdef NDEBUG
#define QUANTA_SYNC_CHECKS 0
#else
#define QUANTA_SYNC_CHECKS 1
#endif
#endif

namespace quanta::detail {

struct Waiter;  // a blocked ULT or kernel thread; defined in runtime/sync/wait.hpp

// A FIFO of waiters behind a spin lock. The lock is held for a few
// instructions at a time, never across a switch, and by a ULT only inside a
// runtime section (so it is never preempted while holding it).
struct WaitQueue {
  std::atomic<std::uint32_t> lock{0};
  std::atomic<Waiter*> head{nullptr};  // written under `lock`; read without it as a hint
  Waiter* tail = nullptr;              // under `lock`
};

// Mutex: bit 0 locked, bit 1 waiters queued.
inline constexpr std::uint32_t kMutexLocked = 1;
inline constexpr std::uint32_t kMutexWaiters = 2;
struct MutexCore {
  std::atomic<std::uint32_t> state{0};
  WaitQueue q;
};

// Semaphore, WaitGroup, Latch: count << 1 | waiters bit. While the waiters bit
// is set the fast paths fail and everything goes through the queue's lock.
inline constexpr std::uint64_t kCountWaiters = 1;
inline constexpr std::int64_t kCountMax = std::int64_t{1} << 61;
struct CountCore {
  std::atomic<std::uint64_t> word{0};
  WaitQueue q;
};

// RwLock: bit 0 a writer holds it, bit 1 waiters queued, readers counted from
// bit 2 up.
inline constexpr std::uint64_t kRwWriter = 1;
inline constexpr std::uint64_t kRwWaiters = 2;
inline constexpr std::uint64_t kRwReader = 4;
struct RwLockCore {
  std::atomic<std::uint64_t> word{0};
  WaitQueue q;
};

// Barrier: everything under the queue's lock.
struct BarrierCore {
  WaitQueue q;
  std::int64_t expected = 0;   // participants of the next phases
  std::int64_t remaining = 0;  // arrivals still missing in this phase
};

// Deadlines are steady_clock nanoseconds; kNoDeadline waits without one.
inline constexpr std::int64_t kNoDeadline = INT64_MAX;

inline std::int64_t steady_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// now + d, rounded up; waits of more than ~95 years have no deadline.
template <class Rep, class Period>
std::int64_t deadline_after(const std::chrono::duration<Rep, Period>& d) noexcept {
  const std::int64_t now = steady_now_ns();
  if (d <= d.zero()) return now;
  if (std::chrono::duration<double, std::nano>(d).count() >= 3.0e18) return kNoDeadline;
  return now + std::chrono::ceil<std::chrono::nanoseconds>(d).count();
}

// A time point of any clock as a steady_clock deadline (other clocks are
// converted by their distance from now).
template <class Clock, class Duration>
std::int64_t deadline_at(const std::chrono::time_point<Clock, Duration>& tp) noexcept {
  if constexpr (std::is_same_v<Clock, std::chrono::steady_clock>) {
    const double ns = std::chrono::duration<double, std::nano>(tp.time_since_epoch()).count();
    if (ns >= 3.0e18) return kNoDeadline;
    if (ns <= -3.0e18) return 0;
    return std::chrono::ceil<std::chrono::nanoseconds>(tp.time_since_epoch()).count();
  } else {
    const auto now = Clock::now();
    if (tp <= now) return steady_now_ns();
    return deadline_after(tp - now);
  }
}

// The slow paths. Every `bool` result is true when the caller got what it
// waited for, false when the deadline passed first.
void mutex_lock_slow(MutexCore& m) noexcept;
void mutex_unlock_slow(MutexCore& m) noexcept;
bool condvar_wait(WaitQueue& cv, MutexCore& m, std::int64_t deadline_ns) noexcept;
void condvar_notify(WaitQueue& cv, bool all) noexcept;

void semaphore_check(std::int64_t initial, std::int64_t max);
bool semaphore_acquire_slow(CountCore& s, std::int64_t deadline_ns) noexcept;
void semaphore_release_slow(CountCore& s, std::int64_t max, std::int64_t n);

// Which public call changes a count, for the slow path and its messages.
enum class CountOp : std::uint8_t { WaitGroupAdd, WaitGroupDone, LatchCountDown };
void latch_check(std::int64_t expected);
// arg is the caller's argument (WaitGroup::add's delta, Latch::count_down's n).
void count_add_slow(CountCore& c, std::int64_t arg, CountOp op);
void count_wake_all(CountCore& c) noexcept;
void count_wait_slow(CountCore& c) noexcept;

void rwlock_lock_slow(RwLockCore& l) noexcept;
void rwlock_unlock_slow(RwLockCore& l) noexcept;
void rwlock_lock_shared_slow(RwLockCore& l) noexcept;
void rwlock_unlock_shared_slow(RwLockCore& l) noexcept;
[[noreturn]] void rwlock_unlock_shared_unheld() noexcept;

void barrier_init(BarrierCore& b, std::int64_t expected);
bool barrier_arrive(BarrierCore& b, bool wait, bool drop);

// Misuse checks (QUANTA_SYNC_CHECKS): who is calling (a ULT's id, or a kernel
// thread's tid with the top bit set), and the checks that abort with a
// message naming the primitive, the caller and the owner.
std::uint64_t sync_self() noexcept;
void mutex_check_lock(const std::atomic<std::uint64_t>& owner) noexcept;
void mutex_check_unlock(std::atomic<std::uint64_t>& owner) noexcept;
void mutex_check_destroy(const MutexCore& m, const std::atomic<std::uint64_t>& owner) noexcept;

// Adds delta to a count: one CAS from the value just read; anything unusual
// (waiters to wake, a bad value, a lost race) goes to count_add_slow.
inline void count_add(CountCore& c, std::int64_t delta, std::int64_t arg, CountOp op) {
  std::uint64_t x = c.word.load(std::memory_order_relaxed);
  const std::int64_t n = static_cast<std::int64_t>(x >> 1);
  if (!(x & kCountWaiters) && delta >= -n && delta <= kCountMax - n &&
      c.word.compare_exchange_strong(x, x + 2 * static_cast<std::uint64_t>(delta),
                                     std::memory_order_acq_rel, std::memory_order_relaxed))
    return;
  count_add_slow(c, arg, op);
}

}  // namespace quanta::detail
