// quanta — waiting and waking for the synchronisation primitives (wait.hpp
// has the protocol).
#include "sync/wait.hpp"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

#include "arch/cpu.hpp"
#include "core/clock.hpp"
#include "core/futex.hpp"
#include "core/runtime_core.hpp"
#include "core/ult_ops.hpp"
#include "trace/hooks.hpp"

namespace quanta::detail {
namespace {

// Spins on a held queue lock before yielding the kernel thread. The holder
// never switches while it holds the lock, so it is running on another CPU
// (or, for a kernel thread, was descheduled by the OS: then yield).
constexpr int kLockSpins = 128;

// The park commit: runs on the next context, after the ULT is off its stack.
bool wait_commit(void* arg, Ult* self) noexcept {
  auto* w = static_cast<Waiter*>(arg);
  Worker* here = current_worker();
  const bool timed = w->deadline_ns != kNoDeadline;
  if (timed) {
    w->timer_worker = here;
    here->add_timer(
        w->deadline_ns, self,
        [](void* a, Ult*) noexcept {
          std::uint32_t s = kParked;
          return static_cast<Waiter*>(a)->state.compare_exchange_strong(
              s, kTimedOut, std::memory_order_acq_rel, std::memory_order_relaxed);
        },
        w);
  }
  // Publishes "parked", and with it timer_worker, to the claim's acquire.
  std::uint32_t s = kWaiting;
  if (w->state.compare_exchange_strong(s, kParked, std::memory_order_acq_rel,
                                       std::memory_order_acquire))
    return true;
  // Claimed, not yet notified: stay parked, the notify step wakes us.
  if (s == kClaimed && w->state.compare_exchange_strong(s, kClaimedParked,
                                                        std::memory_order_acq_rel,
                                                        std::memory_order_acquire))
    return true;
  // Notified before it was off its stack: runnable again, no timer.
  if (timed) here->remove_timer(self);
  return false;
}

// Makes a claimed, parked ULT runnable. `here` is the caller's worker (null
// on a kernel thread).
void wake_parked(Worker* here, Waiter* w) noexcept {
  Ult* u = w->ult;
  Worker* tw = w->timer_worker;
  if (!tw) {
    wake_from(here, u);
    return;
  }
  if (u->rt->trace) [[unlikely]]
    trace_wake(here, u);  // wake_from records the others
  if (tw == here) {
    // Its timer is on our heap: disarm it, then run it here.
    here->remove_timer(u);
    here->make_runnable_hot(u);
  } else {
    // Only that worker may touch its timer: it disarms it when it takes u
    // out of its inbox.
    tw->inbox.push(u);
    tw->notify();
  }
}

}  // namespace

void QueueLock::lock(WaitQueue& q) noexcept {
  for (;;) {
    if (q.lock.exchange(1, std::memory_order_acquire) == 0) return;
    for (int i = 0; q.lock.load(std::memory_order_relaxed) != 0; ++i) {
      if (i < kLockSpins) {
        arch::cpu_relax();
      } else {
        ::sched_yield();
        i = 0;
      }
    }
  }
}

void push_back(WaitQueue& q, Waiter* w) noexcept {
  w->next = nullptr;
  w->prev = q.tail;
  if (q.tail)
    q.tail->next = w;
  else
    q.head.store(w, std::memory_order_relaxed);
  q.tail = w;
  w->linked = true;
}

void push_front(WaitQueue& q, Waiter* w) noexcept {
  Waiter* h = front(q);
  w->prev = nullptr;
  w->next = h;
  if (h)
    h->prev = w;
  else
    q.tail = w;
  q.head.store(w, std::memory_order_relaxed);
  w->linked = true;
}

void unlink(WaitQueue& q, Waiter* w) noexcept {
  if (w->prev)
    w->prev->next = w->next;
  else
    q.head.store(w->next, std::memory_order_relaxed);
  if (w->next)
    w->next->prev = w->prev;
  else
    q.tail = w->prev;
  w->prev = w->next = nullptr;
  w->linked = false;
}

Waiter* pop_front(WaitQueue& q) noexcept {
  Waiter* w = front(q);
  if (w) unlink(q, w);
  return w;
}

bool claim(Waiter* w, WakeList& wl) noexcept {
  std::uint32_t s = w->state.load(std::memory_order_relaxed);
  do {
    if (s == kTimedOut) return false;  // s is kWaiting or kParked otherwise
  } while (!w->state.compare_exchange_weak(s, s == kParked ? kClaimedParked : kClaimed,
                                           std::memory_order_acq_rel,
                                           std::memory_order_relaxed));
  wl.add(w);
  return true;
}

void WakeList::wake_all() noexcept {
  if (!head_) return;
  Worker* here = current_worker();
  for (Waiter* w = head_; w;) {
    // Read first: once notified, w may be gone.
    Waiter* const n = w->wake_next;
    Ult* const u = w->ult;
    const std::uint32_t prev = w->state.exchange(kNotified, std::memory_order_acq_rel);
    if (!u)
      futex_wake(w->state, 1);  // only the address: harmless if it has returned
    else if (prev == kClaimedParked)
      wake_parked(here, w);  // parked until this wake: still there
    // prev == kClaimed: its park commit sees kNotified and keeps it running.
    w = n;
  }
}

bool await(Waiter& w) noexcept {
  const bool timed = w.deadline_ns != kNoDeadline;
  if (w.ult) {
    if (timed && w.deadline_ns <= now_ns()) {
      // Too late to park: time out now, unless a notifier has claimed us.
      std::uint32_t s = kWaiting;
      if (w.state.compare_exchange_strong(s, kTimedOut, std::memory_order_acquire,
                                          std::memory_order_acquire))
        return false;
      if (s == kNotified) return true;
      // kClaimed: the notify step is coming; park for it (the commit's timer
      // fires at once and declines).
    }
    current_worker()->park_current(&wait_commit, &w);
    // Resumed by whoever won: the notify step (kNotified) or the timer (kTimedOut).
    return w.state.load(std::memory_order_acquire) == kNotified;
  }
  for (;;) {
    std::uint32_t s = w.state.load(std::memory_order_acquire);
    if (s == kNotified) return true;
    std::int64_t left = -1;
    if (s == kWaiting && timed) {
      left = w.deadline_ns - now_ns();
      if (left <= 0) {
        if (w.state.compare_exchange_strong(s, kTimedOut, std::memory_order_acquire,
                                            std::memory_order_acquire))
          return false;
        continue;  // claimed meanwhile: wait for the notify step
      }
    }
    futex_wait(w.state, s, left);  // s: kWaiting, or kClaimed until notified
  }
}

std::uint64_t sync_self() noexcept {
  if (const Ult* u = current_ult()) return u->id;
  return (std::uint64_t{1} << 63) | static_cast<std::uint64_t>(::syscall(SYS_gettid));
}

void sync_abort(const char* fmt, ...) noexcept {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "quanta::%s\n", buf);
  std::abort();
}

}  // namespace quanta::detail
