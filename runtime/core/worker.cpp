// quanta — the worker: switching, picking, parking and the kernel thread loop.
#include "core/worker.hpp"

#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <csignal>
#include <cxxabi.h>

#include "arch/context.h"
#include "arch/cpu.hpp"
#include "core/clock.hpp"
#include "core/futex.hpp"
#include "core/placement.hpp"
#include "core/runtime_core.hpp"
#include "core/sanitizer.hpp"
#include "core/ult_ops.hpp"
#include "metrics/thread_profile.hpp"
#include "rcu/rcu_runtime.hpp"
#include "sched/scheduler.hpp"
#include "stack/overflow.hpp"
#include "trace/hooks.hpp"

namespace quanta::detail {
namespace {

thread_local Worker* tls_worker = nullptr;
thread_local Ult* tls_ult = nullptr;  // the current ULT; null for `self`

// Spins of the idle loop before the kernel thread parks. Short: on a VM a
// futex wake costs a few microseconds, so spinning much longer only burns CPU.
constexpr int kIdleSpins = 256;

constexpr std::size_t kAltStackSize = 64 * 1024;

// The timer heap: a binary min-heap on the deadline that records each
// entry's position in its ULT (Ult::timer_slot), so that a timer can be
// disarmed in O(log n) when its waiter is woken by someone else first.
void timer_put(std::vector<TimerEntry>& h, std::size_t i, const TimerEntry& e) noexcept {
  h[i] = e;
  e.ult->timer_slot = static_cast<std::int32_t>(i);
}

void timer_sift_up(std::vector<TimerEntry>& h, std::size_t i) noexcept {
  const TimerEntry e = h[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (h[parent].deadline_ns <= e.deadline_ns) break;
    timer_put(h, i, h[parent]);
    i = parent;
  }
  timer_put(h, i, e);
}

void timer_sift_down(std::vector<TimerEntry>& h, std::size_t i) noexcept {
  const TimerEntry e = h[i];
  const std::size_t n = h.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && h[child + 1].deadline_ns < h[child].deadline_ns) ++child;
    if (e.deadline_ns <= h[child].deadline_ns) break;
    timer_put(h, i, h[child]);
    i = child;
  }
  timer_put(h, i, e);
}

// Removes the entry at i and returns it; its ULT's slot becomes -1.
TimerEntry timer_take(std::vector<TimerEntry>& h, std::size_t i) noexcept {
  const TimerEntry out = h[i];
  out.ult->timer_slot = -1;
  const TimerEntry last = h.back();
  h.pop_back();
  if (i < h.size()) {
    timer_put(h, i, last);
    timer_sift_down(h, i);
    timer_sift_up(h, static_cast<std::size_t>(last.ult->timer_slot));
  }
  return out;
}

}  // namespace

// Not inlined and not analysed across calls: the thread pointer they read
// must be re-read after every switch (a resumed ULT may be on another kernel
// thread). And never preempted inside: reading a thread-local is several
// instructions (thread pointer, then a load through it), and a preemption
// that moved the ULT in between would make it read the old thread's value.
// The section is excluded from the safe points (preempt/safe_points.cpp).
#if defined(__clang__)
#define QUANTA_TLS_ACCESSOR __attribute__((noinline, section("quanta_nopreempt")))
#else
#define QUANTA_TLS_ACCESSOR [[gnu::noipa, gnu::section("quanta_nopreempt")]]
#endif

QUANTA_TLS_ACCESSOR Worker* current_worker() noexcept { return tls_worker; }

QUANTA_TLS_ACCESSOR Ult* current_ult() noexcept { return tls_ult; }

Worker::Worker(RuntimeCore* rt_, unsigned index_, std::size_t stack_size, StackGuard guard)
    : rt(rt_), index(index_), stacks(stack_size, guard) {
  self.refs.store(0, std::memory_order_relaxed);
  timers.reserve(64);
}

Worker::~Worker() { profile_close_worker(*this); }

void Worker::switch_to(Ult* next) noexcept {
  if (next->place & kPlacePrefetch) [[unlikely]]
    prefetch_context(next);  // overlaps the bookkeeping below
  Ult* prev = current;
  current = next;
  next->worker = this;
  in_ult.store(next != &self, std::memory_order_relaxed);
  tls_ult = next != &self ? next : nullptr;
  running_priority.store(next->priority, std::memory_order_relaxed);
  // A preemption deferred while prev ran is void once prev gives up the
  // worker; one that hit the instant `current` already named next is no
  // reason for next to yield.
  prev->preempt_pending.store(false, std::memory_order_relaxed);
  next->preempt_pending.store(false, std::memory_order_relaxed);
  // The C++ exception state is per kernel thread; it must follow the ULT.
  prev->eh = *eh_globals;
  *eh_globals = next->eh;
  prev->saved_errno = *errno_ptr;  // so is errno
  *errno_ptr = next->saved_errno;
  if (prev->canary && *prev->canary != kStackCanary) report_stack_overflow(prev, true);
  switches.store(switches.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  next->runs.store(next->runs.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if ((prev->observe | next->observe) != 0) [[unlikely]]
    observe_switch(prev, next);
  switch_stamp = pick_stamp;  // read by run_after on the next context
  pick_stamp = 0;
  if (trace) [[unlikely]] trace_switch(*this, prev, next);
  asan_start_switch(after == After::Exit ? nullptr : &prev->asan_fake_stack, next->stack.base,
                    next->stack.size);
  quanta_ctx_switch(&prev->sp, next->sp);
  // Resumed: `this` is the worker that switched away, not necessarily ours.
  asan_finish_switch(prev->asan_fake_stack);
  current_worker()->run_after();
}

Ult* Worker::pick_sampled(int min_priority) noexcept {
  if (!sample_switches) {  // Config::metrics off: back here in 2^32 picks
    sample_countdown = ~std::uint32_t{0};
    return pick_next(min_priority);
  }
  sample_countdown = kSwitchSampleEvery;
  pick_stamp = arch::cycle_counter();
  Ult* next = pick_next(min_priority);
  if (!next) pick_stamp = 0;  // no switch follows
  return next;
}

void Worker::observe_switch(Ult* prev, Ult* next) noexcept {
  const std::uint64_t now = arch::cycle_counter();
  if (prev->observe != 0) {
    const std::uint64_t since = prev->run_since.load(std::memory_order_relaxed);
    if (since != 0)
      prev->run_ticks.store(prev->run_ticks.load(std::memory_order_relaxed) + (now - since),
                            std::memory_order_relaxed);
    prev->run_since.store(0, std::memory_order_relaxed);
  }
  if ((prev->observe | next->observe) & kObserveHw)
    profile_switch(*this, prev->observe & kObserveHw ? prev : nullptr,
                   next->observe & kObserveHw ? next : nullptr);
  if (next->observe != 0) next->run_since.store(now | 1, std::memory_order_relaxed);  // never 0
}

void Worker::run_after() noexcept {
  if (switch_stamp != 0) [[unlikely]] {
    switch_latency.add(arch::cycle_counter() - switch_stamp);
    switch_stamp = 0;
  }
  const After a = after;
  after = After::None;
  Ult* u = after_ult;
  switch (a) {
    case After::None:
      return;
    case After::Preempted:
      sched->push_preempted(*this, u);
      return;
    case After::Requeue:
      make_runnable(u);
      return;
    case After::Park:
      if (!park_commit(park_arg, u)) make_runnable(u);
      return;
    case After::Exit:
      ult_release_on(u, this, true);
      return;
  }
}

void Worker::take_inbox_and_timers() noexcept {
  if (inbox.maybe_nonempty()) {
    for (Ult* u = inbox.take_all(); u;) {
      Ult* n = u->next;
      // A timed waiter woken by a notifier on another thread is sent here,
      // to the worker holding its timer (sync/wait.cpp): disarm it first.
      if (u->timer_slot >= 0) [[unlikely]]
        remove_timer(u);
      make_runnable(u);
      u = n;
    }
  }
  if (!timers.empty()) {
    const std::int64_t now = now_ns();
    while (!timers.empty() && timers.front().deadline_ns <= now) {
      const TimerEntry e = timer_take(timers, 0);
      if (!e.fire || e.fire(e.arg, e.ult)) {
        if (trace) [[unlikely]] trace_timer_wake(*this, e.ult);
        make_runnable(e.ult);
      }
    }
    next_deadline_ns.store(timers.empty() ? INT64_MAX : timers.front().deadline_ns,
                           std::memory_order_relaxed);
  }
}

Ult* Worker::pop_policy(int min_priority) noexcept { return sched->pop_local(*this, min_priority); }

void Worker::push_policy(Ult* u) noexcept { sched->push_local(*this, u); }

void Worker::balance() noexcept { sched->balance(*this); }

void Worker::push_policy_hot(Ult* u) noexcept { sched->push_hot(*this, u); }

void Worker::park_current(ParkCommit commit, void* arg) noexcept {
  Ult* cur = current;
  if (cur->rcu_read_depth != 0) [[unlikely]]
    rcu_switch_in_read_section(cur, "park (sleep, join or wait)");
  Ult* next = pick(kMinPriority);
  if (!next) next = &self;
  after = After::Park;
  after_ult = cur;
  park_commit = commit;
  park_arg = arg;
  switch_to(next);
}

void Worker::exit_current(Ult* next) noexcept {
  Ult* cur = current;
  if (!next) next = pick(kMinPriority);
  if (!next) next = &self;
  after = After::Exit;
  after_ult = cur;
  switch_to(next);
  __builtin_trap();  // a finished ULT is never resumed
}

void Worker::add_timer(std::int64_t deadline_ns, Ult* u, TimerFire fire, void* arg) {
  timers.push_back(TimerEntry{deadline_ns, u, fire, arg});
  timer_sift_up(timers, timers.size() - 1);
  next_deadline_ns.store(timers.front().deadline_ns, std::memory_order_relaxed);
}

void Worker::remove_timer(Ult* u) noexcept {
  if (u->timer_slot < 0) return;
  timer_take(timers, static_cast<std::size_t>(u->timer_slot));
  next_deadline_ns.store(timers.empty() ? INT64_MAX : timers.front().deadline_ns,
                         std::memory_order_relaxed);
}

void Worker::notify() noexcept {
  if (parked.load(std::memory_order_seq_cst) != 0 &&
      parked.exchange(0, std::memory_order_seq_cst) == 1) {
    futex_wake(parked, 1);
  }
}

void Worker::loop() {
  tls_worker = this;
  tid = static_cast<int>(::syscall(SYS_gettid));
  tid_ready.store(true, std::memory_order_release);
  if (pthread_getcpuclockid(pthread_self(), &cpu_clock) == 0)
    cpu_clock_ready.store(true, std::memory_order_release);
  eh_globals = reinterpret_cast<EhState*>(abi::__cxa_get_globals());
  errno_ptr = &errno;
  current = &self;
  self.priority = kMinPriority;
  sample_switches = rt->cfg.metrics;
  if (!sample_switches) sample_countdown = ~std::uint32_t{0};

  // The kernel thread's own stack, for the sanitizer's bookkeeping.
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr = nullptr;
    std::size_t size = 0;
    pthread_attr_getstack(&attr, &addr, &size);
    self.stack.base = static_cast<char*>(addr);
    self.stack.size = size;
    pthread_attr_destroy(&attr);
  }

  // The overflow reporter runs here: a ULT that hit its guard page has no
  // stack left to run a handler on.
  altstack = ::mmap(nullptr, kAltStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                    -1, 0);
  if (altstack != MAP_FAILED) {
    altstack_size = kAltStackSize;
    stack_t ss{};
    ss.ss_sp = altstack;
    ss.ss_size = kAltStackSize;
    ::sigaltstack(&ss, nullptr);
  } else {
    altstack = nullptr;
    std::fprintf(stderr,
                 "quanta: worker %u has no signal stack (mmap of %zu bytes failed); a stack "
                 "overflow on it will crash without the overflow report\n",
                 index, kAltStackSize);
  }

  for (;;) {
    if (Ult* next = pick(kMinPriority)) {
      after = After::None;
      switch_to(next);
      continue;
    }
    if (rt->stopping.load(std::memory_order_acquire)) break;
    if (Ult* next = sched->find_work(*this)) {  // global queue, stealing
      after = After::None;
      switch_to(next);
      continue;
    }

    bool work = false;
    for (int i = 0; i < kIdleSpins && !work; ++i) {
      work = inbox.maybe_nonempty() || rt->stopping.load(std::memory_order_relaxed);
      arch::cpu_relax();
    }
    if (work) continue;
    std::int64_t timeout = -1;
    if (!timers.empty()) {
      timeout = timers.front().deadline_ns - now_ns();
      if (timeout <= 0) continue;
    }
    // Dekker with notify() and the policy's wakers: register, publish
    // "parked", then re-check for work.
    sched->prepare_park(*this);
    parked.store(1, std::memory_order_seq_cst);
    if (inbox.nonempty_seq_cst() || rt->stopping.load(std::memory_order_seq_cst) ||
        sched->park_cancelled(*this)) {
      // The monitor may have seen `parked` and gone to sleep meanwhile:
      // wake it as after a real park (Dekker: store, then load sleeping_).
      parked.store(0, std::memory_order_seq_cst);
      sched->after_unpark(*this);
      rt->worker_unparked();
      continue;
    }
    parks.store(parks.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    futex_wait(parked, 1, timeout);
    parked.store(0, std::memory_order_seq_cst);
    sched->after_unpark(*this);
    rt->worker_unparked();
  }

  if (altstack) {
    stack_t ss{};
    ss.ss_flags = SS_DISABLE;
    ::sigaltstack(&ss, nullptr);
    ::munmap(altstack, kAltStackSize);
    altstack = nullptr;
  }
  stacks.drain();
  tls_worker = nullptr;
}

}  // namespace quanta::detail
