// quanta — waiting and waking for the synchronisation primitives.
//
// Every primitive keeps its blocked callers in a WaitQueue: a FIFO of Waiter
// records guarded by a spin lock. A Waiter lives in the frame of the ULT or
// kernel thread that waits, and stays valid until that caller returns.
//
// The protocol (one atomic per waiter, `state`). A notifier releases a
// waiter in two steps: it claims it under the queue's lock, then, once it has
// released the lock and will not touch the primitive again, it notifies it.
// A released waiter may return and destroy the primitive at once (the last
// user of a WaitGroup, a Mutex in an object its new owner frees), so no
// notifier may still be writing to it.
//
//   kWaiting  --(park commit, after the switch away)--> kParked
//   kWaiting  --(claim)--> kClaimed       --(notify)--> kNotified   (its commit
//                                                                    fails: runs on)
//   kClaimed  --(park commit)--> kClaimedParked
//   kParked   --(claim)--> kClaimedParked --(notify)--> kNotified   (notifier wakes it)
//   kParked   --(its timer expires)---------------------> kTimedOut  (timer wakes it)
//   kWaiting  --(kernel thread, or a ULT before parking: deadline passed)--> kTimedOut
//
// Every transition is a CAS (the notify step an exchange), so exactly one of
// the claim and the timeout wins, and exactly the winner makes the waiter
// runnable: no lost notification, no double wake. A claim that finds a
// waiter kTimedOut moves on to the next one, so a notify_one() is never spent
// on a waiter that has given up. A claimed waiter whose deadline passes meanwhile
// waits for the notify step (the timer declines; a kernel thread keeps
// waiting on its futex word).
//
// Who may touch a Waiter when:
//   * its links (`prev`, `next`, `linked`): only under its queue's lock;
//   * a notifier: under the queue's lock, or after claiming it (it cannot
//     return before the notify step); after the notify step, nothing but the
//     address of `state` as a futex word (harmless even when stale), and a
//     ULT that was parked (it stays parked until woken);
//   * a waiter that timed out removes itself from the queue under the lock if
//     it is still linked; a notifier that unlinked it first found it
//     kTimedOut and left it alone.
//
// Timed waits of ULTs: the park commit arms a timer on the worker it runs on
// (Waiter::timer_worker) before publishing kParked. The timer's fire
// callback is the kParked -> kTimedOut CAS. A notifier that wins instead must
// disarm the timer before the waiter runs (the timer entry points at the
// Waiter): on the timer's own worker it disarms it directly; from anywhere
// else it pushes the ULT to that worker's inbox, and the worker disarms the
// timer when it takes the ULT out (Worker::take_inbox_and_timers). The timer
// heap stays owner-only.
//
// Kernel threads (no ULT, or a worker's own context) wait on `state` as a
// futex word; the notify step stores kNotified and calls futex_wake.
#pragma once
#include <atomic>
#include <cstdint>

#include "core/ult.hpp"
#include "core/worker.hpp"
#include "quanta/detail/sync_base.hpp"

namespace quanta::detail {

enum : std::uint32_t {
  kWaiting = 0,        // published, not yet parked (or a kernel thread waiting)
  kParked = 1,         // a ULT off its stack, waiting to be woken
  kNotified = 2,       // released by a notifier: it may return
  kTimedOut = 3,       // its deadline passed first
  kClaimed = 4,        // claimed by a notifier before it parked
  kClaimedParked = 5,  // claimed, and parked: the notifier wakes it
};

struct Waiter {
  explicit Waiter(Ult* u, std::int64_t deadline = kNoDeadline) noexcept
      : ult(u), deadline_ns(deadline) {}
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  Waiter* prev = nullptr;       // queue links, under the queue's lock
  Waiter* next = nullptr;
  Waiter* wake_next = nullptr;  // a notifier's list of claimed waiters
  Ult* const ult;               // null: a kernel thread
  std::atomic<std::uint32_t> state{kWaiting};  // also the futex word of a kernel thread
  Worker* timer_worker = nullptr;  // where the park commit armed the timer
  const std::int64_t deadline_ns;  // steady ns, kNoDeadline for none
  bool linked = false;             // on its queue (under the queue's lock)
  // Per primitive, written before the waiter is published or, by the
  // notifier, before its claim.
  bool writer = false;    // RwLock: waits to write
  bool starving = false;  // Mutex: has waited long; hand it the lock
  bool handoff = false;   // Mutex: the unlocker handed it the lock

  // Ready to wait again (a Mutex waiter that lost the race after a wake).
  void rearm() noexcept {
    state.store(kWaiting, std::memory_order_relaxed);
    timer_worker = nullptr;
    handoff = false;
  }
};

// The queue's spin lock, as a scoped guard. On a ULT it must be taken inside
// a RuntimeSection; it is never held across a switch.
class QueueLock {
 public:
  explicit QueueLock(WaitQueue& q) noexcept : q_(q) { lock(q); }
  ~QueueLock() { q_.lock.store(0, std::memory_order_release); }
  QueueLock(const QueueLock&) = delete;
  QueueLock& operator=(const QueueLock&) = delete;
  static void lock(WaitQueue& q) noexcept;

 private:
  WaitQueue& q_;
};

// Queue operations, under the queue's lock.
void push_back(WaitQueue& q, Waiter* w) noexcept;
void push_front(WaitQueue& q, Waiter* w) noexcept;
void unlink(WaitQueue& q, Waiter* w) noexcept;
Waiter* pop_front(WaitQueue& q) noexcept;
inline Waiter* front(const WaitQueue& q) noexcept { return q.head.load(std::memory_order_relaxed); }
inline bool empty(const WaitQueue& q) noexcept { return front(q) == nullptr; }

// The waiters a notifier claimed, notified (and woken) in claim order once
// the queue's lock is released.
class WakeList {
 public:
  void add(Waiter* w) noexcept {
    w->wake_next = nullptr;
    if (tail_)
      tail_->wake_next = w;
    else
      head_ = w;
    tail_ = w;
  }
  // The notify step for each: kNotified, and a wake for those that wait
  // (a kernel thread's futex, a parked ULT). Call without the queue's lock,
  // inside the caller's runtime section, as the last thing that touches the
  // primitive: a notified waiter may destroy it.
  void wake_all() noexcept;

 private:
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
};

// Under the queue's lock, for a waiter just unlinked from it: claims it and
// puts it on `wl`. False when it had timed out (nothing to do; try the next
// one). The waiter stays blocked until wl.wake_all().
bool claim(Waiter* w, WakeList& wl) noexcept;

// Waits until w is claimed (true) or its deadline passes (false). w must be
// on a queue already, and a ULT caller inside a RuntimeSection; a ULT may
// resume on another worker.
bool await(Waiter& w) noexcept;

// Prints "quanta::<what>" on stderr and aborts.
[[noreturn]] void sync_abort(const char* fmt, ...) noexcept __attribute__((format(printf, 1, 2)));

}  // namespace quanta::detail
