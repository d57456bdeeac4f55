// quanta — the preemption monitor thread.
#include "preempt/monitor.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <vector>

#include "core/clock.hpp"
#include "core/futex.hpp"
#include "core/runtime_core.hpp"
#include "preempt/signal.hpp"
#include "sched/scheduler.hpp"

namespace quanta::detail {
namespace {

constexpr unsigned kMaxBackoff = 64;

}  // namespace

// What the monitor knows about one worker's running ULT.
struct Sample {
  std::uint64_t switches = ~std::uint64_t{0};
  std::int64_t since = 0;     // the running ULT started at or before this
  bool exact = false;         // ... exactly then (a preemption switched it in)
  std::int64_t cpu_at = -1;   // when `cpu` was read (-1: not yet)
  std::int64_t cpu = -1;      // the worker thread's CPU time then (-1: unreadable)
  unsigned wait = 0;          // samples to skip before the next signal
  unsigned backoff = 1;       // next value of `wait`
};

// What one look at the workers found.
struct Look {
  bool any_awake = false;
  // A ULT that others wait behind may overrun before the next slow sample.
  bool candidate = false;
  // The earliest moment a ULT with an exactly known start ends its slice.
  std::int64_t slice_end = INT64_MAX;
};

namespace {

// Whether another ULT waits for worker w: one of at least the running
// priority in its run queue, anything in its inbox, or an expired timer.
bool others_wait(const Worker& w, std::int64_t now) noexcept {
  if (w.sched->others_waiting(w, w.running_priority.load(std::memory_order_relaxed))) return true;
  // Whatever the policy: ULTs sent to this worker (wakes from elsewhere,
  // placement) and expired timers.
  return w.inbox.maybe_nonempty() || w.next_deadline_ns.load(std::memory_order_relaxed) <= now;
}

// CPU time consumed by worker w's thread; -1 if it cannot be read.
std::int64_t thread_cpu_ns(const Worker& w) noexcept {
  if (!w.cpu_clock_ready.load(std::memory_order_acquire)) return -1;
  timespec ts{};
  if (clock_gettime(w.cpu_clock, &ts) != 0) return -1;
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

PreemptMonitor::PreemptMonitor(RuntimeCore* rt) : rt_(rt) {
  install_preempt_handler();
  thread_ = std::thread([this] { run(); });
}

PreemptMonitor::~PreemptMonitor() {
  stop_.store(1, std::memory_order_seq_cst);
  futex_wake(stop_);
  sleeping_.store(0, std::memory_order_seq_cst);
  futex_wake(sleeping_);
  thread_.join();
}

void PreemptMonitor::wake() noexcept { futex_wake(sleeping_); }

// One sample of worker w at time `now`; signals it if its ULT overran.
void PreemptMonitor::look_at(Worker& w, Sample& s, std::int64_t now, const std::int64_t* slices,
                             Look& look) noexcept {
  if (w.parked.load(std::memory_order_relaxed) == 1) {
    s = Sample{};
    return;
  }
  look.any_awake = true;
  const int prio = std::clamp(w.running_priority.load(std::memory_order_relaxed), kMinPriority,
                              kMaxPriority);
  const std::int64_t slice_ns = slices[prio];
  const std::uint64_t sw = w.switches.load(std::memory_order_relaxed);
  if (sw != s.switches || !w.in_ult.load(std::memory_order_relaxed)) {
    // Switched since the last look: the running ULT started at or before
    // `now`, so it has run at least (later sample - now); if a preemption
    // switched it in, exactly when is known.
    s = Sample{};
    s.switches = sw;
    s.since = now;
    if (w.preempt_switch_count.load(std::memory_order_acquire) == sw) {
      s.since = std::min(now, w.preempt_switch_ns.load(std::memory_order_relaxed));
      s.exact = true;
      // Spinning ULTs taking turns: the one switched in will likely overrun
      // too. Note the CPU time now, and have a sample at the end of its slice.
      if (others_wait(w, now)) {
        look.candidate = true;
        look.slice_end = std::min(look.slice_end, s.since + slice_ns);
        s.cpu_at = now;
        s.cpu = thread_cpu_ns(w);
      }
    }
    return;
  }
  // The same ULT since `since`. A worker thread the kernel did not run (other
  // threads on its CPU) looks the same: only CPU time really spent counts
  // towards the slice, so note the thread's CPU time the first time the ULT
  // is seen still running.
  if (s.cpu_at < 0) {
    s.cpu_at = now;
    s.cpu = thread_cpu_ns(w);
  }
  if (!others_wait(w, now)) return;
  look.candidate = true;
  if (s.exact) look.slice_end = std::min(look.slice_end, s.since + slice_ns);
  if (s.wait > 0) {
    --s.wait;
    return;
  }
  // Overrun: a slice of wall time since `since` (less a little sampling
  // jitter when the start is only bounded) and, of the part since `cpu_at`,
  // 90% really on a CPU. Wall time before `cpu_at` counts for at most half a
  // slice: when the monitor itself ran late, the worker may not have run
  // either.
  const std::int64_t needed = s.exact ? slice_ns : slice_ns - slice_ns / 16;
  if (now - s.since < needed || now == s.cpu_at) return;
  if (s.cpu >= 0) {
    const std::int64_t cpu = thread_cpu_ns(w);
    const std::int64_t owed = slice_ns - std::min(s.cpu_at - s.since, slice_ns / 2);
    if (cpu >= 0 && cpu - s.cpu < owed * 9 / 10) return;
    // The CPU time was read after the counter: if this thread was held up
    // in between (the monitor shares the CPUs), the worker may have switched
    // meanwhile and the CPU time include it. Only a counter still unchanged
    // now proves the run.
    if (w.switches.load(std::memory_order_relaxed) != sw) return;
  }
  ::syscall(SYS_tgkill, pid_, w.tid, kPreemptSignal);
  w.preempt_sent.store(w.preempt_sent.load(std::memory_order_relaxed) + 1,
                       std::memory_order_relaxed);
  // If the ULT switches, the counter moves and this resets; if the signal
  // was deferred, wait longer before the next one.
  s.wait = s.backoff;
  s.backoff = std::min(s.backoff * 2, kMaxBackoff);
}

void PreemptMonitor::run() {
  // The slice of each priority level; sampling follows the shortest.
  std::int64_t slices[kMaxPriority + 1];
  std::int64_t shortest = INT64_MAX;
  for (int p = kMinPriority; p <= kMaxPriority; ++p) {
    slices[p] = std::chrono::duration_cast<std::chrono::nanoseconds>(rt_->cfg.time_slice_for(p))
                    .count();
    shortest = std::min(shortest, slices[p]);
  }
  // Sampling period while a ULT that others wait behind may overrun soon,
  // and the longest period otherwise (see monitor.hpp).
  const std::int64_t fast = shortest / 2;
  const std::int64_t slow = shortest;
  // The kernel may defer a timed wake-up by the thread's timer slack (50 us
  // by default), a whole sampling period at small slices.
  ::prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(std::max<std::int64_t>(fast / 16, 1000)));
  pid_ = ::getpid();
  std::vector<Sample> samples(rt_->workers.size());
  std::int64_t period = fast;
  std::int64_t deadline = now_ns() + period;
  while (stop_.load(std::memory_order_acquire) == 0) {
    futex_wait_until(stop_, 0, deadline);
    if (stop_.load(std::memory_order_acquire) != 0) break;
    const std::int64_t now = now_ns();
    if (now < deadline) continue;  // woken early (a signal): sleep on
    Look look;
    for (std::size_t i = 0; i < rt_->workers.size(); ++i)
      look_at(*rt_->workers[i], samples[i], now, slices, look);
    if (!look.any_awake) {
      // Every worker parked: sleep until one wakes (Dekker with
      // worker_unparked: publish, then re-check).
      sleeping_.store(1, std::memory_order_seq_cst);
      bool all_parked = true;
      for (auto& w : rt_->workers)
        if (w->parked.load(std::memory_order_seq_cst) != 1) all_parked = false;
      if (all_parked && stop_.load(std::memory_order_seq_cst) == 0) futex_wait(sleeping_, 1);
      sleeping_.store(0, std::memory_order_relaxed);
      period = fast;
      deadline = now_ns() + period;
      continue;
    }
    // Nothing about to overrun (the ULTs switch, or nobody waits): sample
    // less often, up to once a slice; back to slice/2 as soon as something
    // may. A ULT that starts to overrun meanwhile is preempted at most about
    // one slow period later than it would be otherwise.
    period = look.candidate ? fast : std::min(period * 2, slow);
    deadline += period;
    // A slice with a known start that ends near the next sample: sample
    // right at its end instead (the schedule follows the preemptions, so
    // spinning ULTs get one slice each, not one plus up to half).
    if (look.slice_end > now && look.slice_end > deadline - period / 4 &&
        look.slice_end < deadline + period / 4)
      deadline = look.slice_end;
    if (deadline <= now) deadline = now + period;  // fell behind: do not catch up
  }
}

}  // namespace quanta::detail
