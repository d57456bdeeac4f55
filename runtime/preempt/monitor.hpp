// quanta — the preemption monitor: one thread per runtime (when preemption
// is on) that decides which workers to signal.
//
// Why a monitor thread and not per-worker timers: a per-thread POSIX timer
// fires every slice whether or not the ULT switched meanwhile, and each
// expiry is a signal (about 3.5 µs of CPU on these VMs) on a worker that
// usually did not need one. The monitor instead samples each worker's switch
// counter (as Go's sysmon samples schedtick), so a worker whose ULTs switch
// more often than the slice is never signalled at all, and it sends a signal
// only when the running ULT has not switched for a whole slice *and* other
// ULTs wait for that worker. See docs/preemption.md for the measurements.
//
// Sampling: on an absolute schedule (a late wake-up does not shift the next
// one), every slice/2 while some worker runs a ULT that others wait behind
// and that has not switched since the previous sample, stretching to once a
// slice otherwise (ULTs that switch often, or nobody waiting). The sample at
// which a worker's switch counter is seen to move starts the clock of its
// running ULT: that ULT started at or before it — or exactly when, if a
// preemption switched it in (the handler notes the time). The next sample
// that finds the counter still notes the worker thread's CPU time; a later
// one, at least a slice after the start, signals if others wait and the
// thread really spent >= 90% of the rest of the slice on a CPU. (Without the
// CPU-time check a worker that the kernel merely descheduled — other threads
// on its CPU — would look stuck.) A signal that was deferred (the ULT was in
// the runtime, a NoPreempt scope or foreign code) is re-sent with
// exponential back-off (1, 2, 4 ... 64 samples), so a ULT blocked in a long
// system call is not hit by a storm of EINTRs. When every worker is parked
// the monitor sleeps until one wakes.
#pragma once
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <thread>

namespace quanta::detail {

struct RuntimeCore;
struct Worker;
struct Sample;
struct Look;

class PreemptMonitor {
 public:
  explicit PreemptMonitor(RuntimeCore* rt);
  ~PreemptMonitor();  // stops and joins the thread
  PreemptMonitor(const PreemptMonitor&) = delete;
  PreemptMonitor& operator=(const PreemptMonitor&) = delete;

  // A worker left its futex sleep; wakes the monitor if it sleeps too.
  // Called by workers.
  void worker_unparked() noexcept {
    if (sleeping_.load(std::memory_order_seq_cst) &&
        sleeping_.exchange(0, std::memory_order_seq_cst) == 1)
      wake();
  }

 private:
  void run();
  void look_at(Worker& w, Sample& s, std::int64_t now, const std::int64_t* slices,
               Look& look) noexcept;
  void wake() noexcept;

  RuntimeCore* rt_;
  pid_t pid_ = 0;
  std::atomic<std::uint32_t> stop_{0};      // futex word for sampling sleeps
  std::atomic<std::uint32_t> sleeping_{0};  // futex word: 1 while all workers park
  std::thread thread_;
};

}  // namespace quanta::detail
