// quanta — the preemption monitor thread.
#include "preempt/monitor.hpp"

#include <signal.h>
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

struct Sample {
  std::uint64_t switches = ~std::uint64_t{0};
  unsigned stale = 0;    // consecutive samples without a switch
  std::int64_t cpu = 0;  // the worker thread's CPU time at the first of them
  unsigned wait = 0;     // samples to skip before the next signal
  unsigned backoff = 1;  // next value of `wait`
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
  const std::int64_t slice_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(rt_->cfg.time_slice).count();
  const std::int64_t tick = slice_ns / 2;
  const pid_t pid = ::getpid();
  std::vector<Sample> samples(rt_->workers.size());
  while (stop_.load(std::memory_order_acquire) == 0) {
    futex_wait(stop_, 0, tick);
    if (stop_.load(std::memory_order_acquire) != 0) break;
    const std::int64_t now = now_ns();
    bool any_awake = false;
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
        s = Sample{};
        s.switches = sw;
        continue;
      }
      // First sample without a switch: note the thread's CPU time. A worker
      // whose ULT did not switch may simply not have been on a CPU (the
      // kernel ran something else): only CPU time really spent in the same
      // ULT counts towards its slice.
      if (++s.stale == 1) {
        s.cpu = thread_cpu_ns(w);
        continue;
      }
      if (s.stale < 3) continue;  // two more samples: one slice later
      if (s.wait > 0) {
        --s.wait;
        continue;
      }
      if (!others_wait(w, now)) continue;
      const std::int64_t cpu = thread_cpu_ns(w);
      if (cpu >= 0 && s.cpu >= 0 && cpu - s.cpu < slice_ns * 9 / 10) continue;
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
    }
  }
}

}  // namespace quanta::detail
