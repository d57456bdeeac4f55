// quanta — Mutex and CondVar slow paths.
//
// Mutex state (MutexCore::state): kMutexLocked | kMutexWaiters. The waiters
// bit is changed only under the queue's lock and is set exactly while the
// queue is non-empty, so an unlock that finds only kMutexLocked has nobody to
// wake. While kMutexLocked is set, only its holder and code under the queue's
// lock change the word (every other CAS expects the bit clear), which is why
// the unlock slow path can store the new value instead of a CAS loop.
//
// Waking: the unlocker pops the oldest waiter and wakes it. Normally it
// releases the lock first and the woken waiter competes with newcomers
// (barging keeps the lock busy while the waiter is being scheduled); a waiter
// that loses requeues at the front. A waiter that has lost once and waited
// for kStarveNs is marked starving, and the unlocker hands it the lock without
// releasing it. Go's sync.Mutex switches between the same two modes for the
// same reasons, with the same 1 ms threshold.
#include <cinttypes>

#include "arch/cpu.hpp"
#include "core/clock.hpp"
#include "core/no_preempt.hpp"
#include "quanta/condvar.hpp"
#include "quanta/mutex.hpp"
#include "sync/wait.hpp"

namespace quanta::detail {
namespace {

// Rounds of cpu_relax spent re-checking a held lock before queueing: about
// what a short critical section on another CPU takes, far less than a park.
constexpr int kSpins = 64;
constexpr std::int64_t kStarveNs = 1'000'000;

// The fast paths of mutex.hpp, without its owner bookkeeping (CondVar's
// wait releases and retakes the mutex from here).
void raw_lock(MutexCore& m) noexcept {
  std::uint32_t expected = 0;
  if (!m.state.compare_exchange_strong(expected, kMutexLocked, std::memory_order_acquire,
                                       std::memory_order_relaxed))
    mutex_lock_slow(m);
}

void raw_unlock(MutexCore& m) noexcept {
  std::uint32_t expected = kMutexLocked;
  if (!m.state.compare_exchange_strong(expected, 0, std::memory_order_release,
                                       std::memory_order_relaxed))
    mutex_unlock_slow(m);
}

void describe(char* buf, std::size_t n, std::uint64_t who) {
  if (who == 0)
    std::snprintf(buf, n, "nobody");
  else if (who >> 63)
    std::snprintf(buf, n, "kernel thread %" PRIu64, who & ~(std::uint64_t{1} << 63));
  else
    std::snprintf(buf, n, "ULT %" PRIu64, who);
}

}  // namespace

void mutex_lock_slow(MutexCore& m) noexcept {
  for (int i = 0; i < kSpins; ++i) {
    std::uint32_t s = m.state.load(std::memory_order_relaxed);
    if (!(s & kMutexLocked) && m.state.compare_exchange_weak(s, s | kMutexLocked,
                                                             std::memory_order_acquire,
                                                             std::memory_order_relaxed))
      return;
    arch::cpu_relax();
  }

  RuntimeSection section;
  Waiter w(section.ult());
  std::int64_t since = 0;
  for (;;) {
    {
      QueueLock lk(m.q);
      std::uint32_t s = m.state.load(std::memory_order_relaxed);
      for (;;) {
        if (!(s & kMutexLocked)) {
          if (m.state.compare_exchange_weak(s, s | kMutexLocked, std::memory_order_acquire,
                                            std::memory_order_relaxed))
            return;
        } else if ((s & kMutexWaiters) ||
                   m.state.compare_exchange_weak(s, s | kMutexWaiters, std::memory_order_relaxed,
                                                 std::memory_order_relaxed)) {
          break;
        }
      }
      if (since == 0) {
        since = now_ns();
        push_back(m.q, &w);
      } else {
        // Woken, but someone else got there first: keep the place in line.
        w.starving = now_ns() - since >= kStarveNs;
        push_front(m.q, &w);
      }
    }
    await(w);  // no deadline: returns once claimed
    if (w.handoff) return;  // the unlocker kept it locked for us
    w.rearm();
  }
}

void mutex_unlock_slow(MutexCore& m) noexcept {
  RuntimeSection section;
  WakeList wl;
  {
    QueueLock lk(m.q);
    const std::uint32_t s = m.state.load(std::memory_order_relaxed);
    if (!(s & kMutexLocked))
      sync_abort("Mutex::unlock: the mutex is not locked; expected unlock() only after lock()");
    Waiter* w = pop_front(m.q);
    const std::uint32_t waiters = empty(m.q) ? 0 : kMutexWaiters;
    if (w && w->starving) {
      w->handoff = true;
      m.state.store(kMutexLocked | waiters, std::memory_order_relaxed);
    } else {
      m.state.store(waiters, std::memory_order_release);
    }
    if (w) claim(w, wl);  // mutex waiters have no deadline: always succeeds
  }
  wl.wake_all();  // last: the woken waiter may own (and free) the mutex at once
}

void mutex_check_lock(const std::atomic<std::uint64_t>& owner) noexcept {
  const std::uint64_t self = sync_self();
  if (owner.load(std::memory_order_relaxed) == self) {
    char me[48];
    describe(me, sizeof me, self);
    sync_abort("Mutex::lock: %s already holds this mutex; quanta::Mutex is not recursive", me);
  }
}

void mutex_check_unlock(std::atomic<std::uint64_t>& owner) noexcept {
  const std::uint64_t self = sync_self();
  const std::uint64_t o = owner.load(std::memory_order_relaxed);
  if (o != self) {
    char me[48], holder[48];
    describe(me, sizeof me, self);
    describe(holder, sizeof holder, o);
    sync_abort(
        "Mutex::unlock: called by %s, but the mutex is held by %s; expected unlock() by the "
        "thread that locked it",
        me, holder);
  }
  owner.store(0, std::memory_order_relaxed);
}

void mutex_check_destroy(const MutexCore& m, const std::atomic<std::uint64_t>& owner) noexcept {
  if (m.state.load(std::memory_order_relaxed) & kMutexLocked) {
    char holder[48];
    describe(holder, sizeof holder, owner.load(std::memory_order_relaxed));
    sync_abort("Mutex: destroyed while locked (held by %s); expected it to be unlocked first",
               holder);
  }
}

bool condvar_wait(WaitQueue& cv, MutexCore& m, std::int64_t deadline_ns) noexcept {
  // Already late: as if released and retaken at once.
  if (deadline_ns != kNoDeadline && deadline_ns <= now_ns()) return false;
  RuntimeSection section;
  Waiter w(section.ult(), deadline_ns);
  {
    QueueLock lk(cv);
    push_back(cv, &w);
  }
  // Queued before the mutex is released: a notify after this finds us.
  raw_unlock(m);
  const bool notified = await(w);
  if (!notified) {
    QueueLock lk(cv);
    if (w.linked) unlink(cv, &w);
  }
  raw_lock(m);
  return notified;
}

void condvar_notify(WaitQueue& cv, bool all) noexcept {
  RuntimeSection section;
  WakeList wl;
  {
    QueueLock lk(cv);
    while (Waiter* w = pop_front(cv)) {
      if (claim(w, wl) && !all) break;
    }
  }
  wl.wake_all();
}

}  // namespace quanta::detail
