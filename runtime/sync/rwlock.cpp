// quanta — RwLock slow paths.
//
// RwLockCore::word = readers * kRwReader | kRwWaiters | kRwWriter. The
// waiters bit is changed only under the queue's lock and is set exactly while
// the queue is non-empty. It blocks both fast paths that take the lock, so
// once anybody waits, newcomers queue behind: a writer is not starved by a
// stream of readers, nor readers by writers.
//
// The lock is handed over, never released to a free-for-all while anyone
// waits: when the writer leaves, or the last reader (the one whose
// fetch_sub leaves exactly kRwWaiters), the leaver takes the queue's lock and
// grants the lock to the oldest waiter, or to the run of readers at the
// head, and stores the word that says they hold it. Nothing else changes the
// word meanwhile: kRwWaiters is set and nobody holds the lock, so every CAS
// elsewhere expects a different value.
#include "core/no_preempt.hpp"
#include "quanta/rwlock.hpp"
#include "sync/wait.hpp"

namespace quanta::detail {
namespace {

// Under the queue's lock, with nobody holding the RwLock: hands it to the
// oldest waiter, or to the run of readers at the head. The claimed waiters
// run only after the caller's wl.wake_all().
void grant(RwLockCore& l, WakeList& wl) noexcept {
  std::uint64_t next = 0;
  if (Waiter* h = front(l.q); h && h->writer) {
    claim(pop_front(l.q), wl);  // no deadlines: a claim always succeeds
    next = kRwWriter;
  } else {
    while ((h = front(l.q)) && !h->writer) {
      claim(pop_front(l.q), wl);
      next += kRwReader;
    }
  }
  l.word.store(next | (empty(l.q) ? 0 : kRwWaiters), std::memory_order_release);
}

}  // namespace

void rwlock_lock_slow(RwLockCore& l) noexcept {
  RuntimeSection section;
  Waiter w(section.ult());
  w.writer = true;
  {
    QueueLock lk(l.q);
    std::uint64_t x = l.word.load(std::memory_order_relaxed);
    for (;;) {
      if (x == 0) {
        if (l.word.compare_exchange_weak(x, kRwWriter, std::memory_order_acquire,
                                         std::memory_order_relaxed))
          return;
      } else if ((x & kRwWaiters) ||
                 l.word.compare_exchange_weak(x, x | kRwWaiters, std::memory_order_relaxed,
                                              std::memory_order_relaxed)) {
        break;
      }
    }
    push_back(l.q, &w);
  }
  await(w);  // granted: the word says kRwWriter for us
}

void rwlock_lock_shared_slow(RwLockCore& l) noexcept {
  // The fast path may only have lost a race with another reader.
  std::uint64_t y = l.word.load(std::memory_order_relaxed);
  while (!(y & (kRwWriter | kRwWaiters))) {
    if (l.word.compare_exchange_weak(y, y + kRwReader, std::memory_order_acquire,
                                     std::memory_order_relaxed))
      return;
  }
  RuntimeSection section;
  Waiter w(section.ult());
  {
    QueueLock lk(l.q);
    std::uint64_t x = l.word.load(std::memory_order_relaxed);
    for (;;) {
      if (!(x & (kRwWriter | kRwWaiters))) {
        if (l.word.compare_exchange_weak(x, x + kRwReader, std::memory_order_acquire,
                                         std::memory_order_relaxed))
          return;
      } else if ((x & kRwWaiters) ||
                 l.word.compare_exchange_weak(x, x | kRwWaiters, std::memory_order_relaxed,
                                              std::memory_order_relaxed)) {
        break;
      }
    }
    push_back(l.q, &w);
  }
  await(w);  // granted: counted among the readers
}

void rwlock_unlock_slow(RwLockCore& l) noexcept {
  RuntimeSection section;
  WakeList wl;
  {
    QueueLock lk(l.q);
    if (!(l.word.load(std::memory_order_relaxed) & kRwWriter))
      sync_abort("RwLock::unlock: no writer holds the lock; expected unlock() after lock()");
    grant(l, wl);
  }
  wl.wake_all();
}

void rwlock_unlock_shared_slow(RwLockCore& l) noexcept {
  RuntimeSection section;
  WakeList wl;
  {
    QueueLock lk(l.q);
    // Nobody can have taken the lock since our fetch_sub left kRwWaiters.
    if (l.word.load(std::memory_order_acquire) != kRwWaiters) return;
    grant(l, wl);
  }
  wl.wake_all();
}

void rwlock_unlock_shared_unheld() noexcept {
  sync_abort(
      "RwLock::unlock_shared: no reader holds the lock; expected unlock_shared() after "
      "lock_shared()");
}

}  // namespace quanta::detail
