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

// What the monitor knows about one worker's running ULT.
struct Sample {
  std::uint64_t switches = ~std::uint64_t{0};
  std::int64_t since = 0;     // when the switch counter was last seen to move
  std::int64_t cpu_at = -1;   // when `cpu` was read (-1: not yet)
  std::int64_t cpu = -1;      // the worker thread's CPU time then (-1: unreadable)
  unsigned wait = 0;          // samples to skip before the next signal
  unsigned backoff = 1;       // next value of `wait`
};

// Whether another ULT waits for worker w: one of at least the running
// priority in its run queue, anything in its inbox, or an expired timer.
bool others_wait(const Worker& w, std::int64_t now) noexcept {
  if (w.sched->others_waiting(w, w.running_priority.load(std::memory_order_relaxed))) return true;
  return w.next_deadline_ns.load(std::memory_order_relaxed) <= now;
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

void PreemptMonitor::run() {
  // The slice of each priority level; sampling follows the shortest.
  std::int64_t slices[kMaxPriority + 1];
  std::int64_t shortest = INT64_MAX;
  for (int p = kMinPriority; p <= kMaxPriority; ++p) {
    slices[p] = std::chrono::duration_cast<std::chrono::nanoseconds>(rt_->cfg.time_slice_for(p))
                    .count();
    shortest = std::min(shortest, slices[p]);
  }
  // Sampling period while some worker runs a ULT that others wait behind,
  // and the longest period otherwise (see monitor.hpp).
  const std::int64_t fast = shortest / 2;
  const std::int64_t slow = shortest;
  // The kernel may defer a timed wake-up by the thread's timer slack (50 us
  // by default), a whole sampling period at small slices.
  ::prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(std::max<std::int64_t>(fast / 16, 1000)));
  const pid_t pid = ::getpid();
  std::vector<Sample> samples(rt_->workers.size());
  std::int64_t period = fast;
  std::int64_t deadline = now_ns() + period;
  while (stop_.load(std::memory_order_acquire) == 0) {
    futex_wait_until(stop_, 0, deadline);
    if (stop_.load(std::memory_order_acquire) != 0) break;
    const std::int64_t now = now_ns();
    if (now < deadline) continue;  // woken early (a signal): sleep on
    bool any_awake = false;
    bool any_candidate = false;  // a worker whose ULT others wait behind
    for (std::size_t i = 0; i < rt_->workers.size(); ++i) {
      Worker& w = *rt_->workers[i];
      Sample& s = samples[i];
      if (w.parked.load(std::memory_order_relaxed) == 1) {
        s = Sample{};
        continue;
      }
      any_awake = true;
      const std::uint64_t sw = w.switches.load(std::memory_order_relaxed);
      if (sw != s.switches || !w.in_ult.load(std::memory_order_relaxed)) {
        // Switched since the last look: the running ULT started at or
        // before `now`, so it has run at least (later sample - now).
        s = Sample{};
        s.switches = sw;
        s.since = now;
        if (others_wait(w, now)) any_candidate = true;
        continue;
      }
      // The same ULT since `since`. A worker thread the kernel did not run
      // (other threads on its CPU) looks the same: only CPU time really
      // spent counts towards the slice, so note the thread's CPU time the
      // first time the ULT is seen still running.
      if (s.cpu_at < 0) {
        s.cpu_at = now;
        s.cpu = thread_cpu_ns(w);
      }
      if (!others_wait(w, now)) continue;
      any_candidate = true;
      if (s.wait > 0) {
        --s.wait;
        continue;
      }
      const int prio = w.running_priority.load(std::memory_order_relaxed);
      const std::int64_t slice_ns = slices[std::clamp(prio, kMinPriority, kMaxPriority)];
      // Overrun: a slice of wall time since `since` (less a little sampling
      // jitter) and, of the part since `cpu_at`, 90% really on a CPU. Wall
      // time before `cpu_at` counts for at most one fast period: when the
      // monitor itself ran late, the worker may not have run either.
      if (now - s.since < slice_ns - slice_ns / 16 || now == s.cpu_at) continue;
      if (s.cpu >= 0) {
        const std::int64_t cpu = thread_cpu_ns(w);
        const std::int64_t owed = slice_ns - std::min(s.cpu_at - s.since, slice_ns / 2);
        if (cpu >= 0 && cpu - s.cpu < owed * 9 / 10) continue;
      }
      ::syscall(SYS_tgkill, pid, w.tid, kPreemptSignal);
      w.preempt_sent.store(w.preempt_sent.load(std::memory_order_relaxed) + 1,
                           std::memory_order_relaxed);
      // If the ULT switches, the counter moves and this resets; if the
      // signal was deferred, wait longer before the next one.
      s.wait = s.backoff;
      s.backoff = std::min(s.backoff * 2, kMaxBackoff);
    }
    if (!any_awake) {
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
    // Nobody waits behind a running ULT: nothing can overrun yet, so sample
    // less often (up to once a slice); back to slice/2 as soon as someone
    // waits. A ULT that starts waiting meanwhile is served at most one slow
    // period later than it would be otherwise.
    period = any_candidate ? fast : std::min(period * 2, slow);
    deadline += period;
    if (deadline <= now) deadline = now + period;  // fell behind: do not catch up
  }
}

}  // namespace quanta::detail
