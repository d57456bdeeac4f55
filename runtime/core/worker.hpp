// quanta — a worker: one kernel thread running ULTs.
//
// Every switch goes through Worker::switch_to, which records what must happen
// to the ULT being left *after* the switch (the After action) and runs it on
// the next context. This is how quanta avoids the classic lost/duplicated
// wake-up of user-level threads: a ULT that parks is published to wakers only
// once it no longer runs on its stack, exactly like Go's park_m runs the
// unlock function on g0 after the goroutine is off its stack.
//
// Stacks code runs on:
//   * ULT code, runtime calls made by it (yield, park, spawn) and the After
//     actions run on ULT stacks;
//   * the worker loop (finding work, parking the kernel thread) runs on the
//     kernel thread's own stack, `Worker::self` being its context;
//   * the SIGSEGV overflow reporter runs on the worker's sigaltstack.
// Locks: no runtime lock is ever held across a switch.
#pragma once
#include <time.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include "core/ult.hpp"
#include "metrics/histogram.hpp"
#include "sched/run_queue.hpp"
#include "stack/stack.hpp"

namespace quanta::detail {

struct RuntimeCore;
class Scheduler;
class HwCounters;
class TraceBuffer;

// What happens to the ULT a worker just switched away from.
enum class After : std::uint8_t {
  None,     // nothing (it was the worker's own context)
  Requeue,  // runnable again (yield)
  Preempted,  // runnable again after a preemption (the policy may move it)
  Park,     // blocked: run park_commit; if it returns false, runnable again
  Exit,     // finished: drop its execution reference
};

using ParkCommit = bool (*)(void* arg, Ult* self) noexcept;

// Decides, on the owning worker, what an expired timer does: true makes the
// ULT runnable, false leaves it alone (someone else has woken it or will).
// Runs inside take_inbox_and_timers, so possibly in the preemption handler:
// no locks, no allocation, no switch.
using TimerFire = bool (*)(void* arg, Ult* u) noexcept;

struct TimerEntry {
  std::int64_t deadline_ns;
  Ult* ult;
  TimerFire fire;  // null: make `ult` runnable unconditionally (sleep)
  void* arg;
};

struct alignas(128) Worker {
  Worker(RuntimeCore* rt, unsigned index, std::size_t stack_size, StackGuard guard);
  ~Worker();

  RuntimeCore* const rt;
  const unsigned index;
  // Where the worker sits (core/worker_cpus.hpp), set before its thread
  // starts and constant afterwards: the PU it is pinned to (or assigned
  // to, on a logical topology; -1 when unknown) and that PU's NUMA node.
  int cpu = -1;
  unsigned node = 0;
  // A worker bitmap holding only this worker: the `allowed` mask of the ULTs
  // bound to it (MigrationPolicy::Prohibited).
  std::vector<std::uint64_t> only_self;
  Scheduler* sched = nullptr;
  // Set when the policy is round-robin, whose local queue is `rq`: the hot
  // paths then use the queue directly instead of a virtual call.
  bool rr_local = false;
  Ult* current = nullptr;  // the running ULT, or &self
  Ult self;                // the kernel thread's own context
  TraceBuffer* trace = nullptr;  // owner only: this worker's trace events; null when off

  After after = After::None;
  Ult* after_ult = nullptr;
  ParkCommit park_commit = nullptr;
  void* park_arg = nullptr;

  RunQueue rq;
  std::uint32_t picks = 0;  // owner only
  Inbox inbox;
  // Min-heap on deadline; owner only. Each armed ULT knows its position
  // (Ult::timer_slot), so a timer can be disarmed before it expires.
  std::vector<TimerEntry> timers;
  StackCache stacks;
  EhState* eh_globals = nullptr;   // this kernel thread's C++ EH state
  int* errno_ptr = nullptr;        // this kernel thread's errno

  std::uint64_t next_id = 0, id_limit = 0;  // block of ULT ids reserved by this worker
  std::atomic<std::uint32_t> parked{0};     // futex word: 1 while the thread sleeps
  int tid = 0;
  clockid_t cpu_clock{};                     // this thread's CPU-time clock
  std::atomic<bool> cpu_clock_ready{false};  // cpu_clock and tid are set
  std::atomic<bool> tid_ready{false};        // tid is set
  void* altstack = nullptr;
  std::size_t altstack_size = 0;
  std::thread thread;

  // Read by the preemption monitor (owner writes, relaxed).
  std::atomic<std::uint8_t> in_ult{0};           // a ULT (not `self`) is current
  std::atomic<int> running_priority{0};          // priority of the current ULT
  std::atomic<std::int64_t> next_deadline_ns{INT64_MAX};  // earliest timer
  // The last switch made by a preemption: the value `switches` took and
  // when. While the counter still has that value, the monitor knows exactly
  // when the running ULT started instead of bounding it by its own samples.
  std::atomic<std::uint64_t> preempt_switch_count{~std::uint64_t{0}};
  std::atomic<std::int64_t> preempt_switch_ns{0};

  // Preemption counters: `sent` written by the monitor, the others by the owner.
  std::atomic<std::uint64_t> preempt_sent{0};
  std::atomic<std::uint64_t> preempt_taken{0};
  std::atomic<std::uint64_t> preempt_deferred{0};
  std::atomic<std::uint64_t> preempt_deferred_taken{0};
  std::atomic<std::uint64_t> preempt_ignored{0};

  // Counters (owner writes, anyone reads).
  std::atomic<std::uint64_t> spawned{0};   // ULTs started from this worker
  std::atomic<std::uint64_t> finished{0};  // ULTs that finished on this worker
  std::atomic<std::uint64_t> switches{0};
  std::atomic<std::uint64_t> parks{0};     // sleeps of the kernel thread
  std::atomic<std::uint64_t> yields{0};    // yields that switched
  std::atomic<std::uint64_t> steals{0};    // takes of another worker's ULTs

  // Switch latency, sampled every kSwitchSampleEvery picks: cycle-counter
  // ticks from the pick that chose the next ULT to that ULT running (the
  // pick, the bookkeeping of switch_to, the register switch, run_after).
  static constexpr std::uint32_t kSwitchSampleEvery = 32;
  std::uint32_t sample_countdown = kSwitchSampleEvery;  // owner only
  bool sample_switches = true;  // Config::metrics; set before the loop starts
  std::uint64_t pick_stamp = 0;    // owner only: ticks at a sampled pick
  std::uint64_t switch_stamp = 0;  // owner only: ... handed to the next context
  LatencyHistogram switch_latency;
  // Perf events of this thread, for profiled ULTs (metrics/thread_profile.hpp):
  // null until the runtime's first profiled spawn; then owned.
  std::atomic<HwCounters*> counters{nullptr};

  // --- owner-only operations (called on this worker's thread) ---
  // Runs `next` now; `after`/`after_ult` must already be set. When this
  // returns the caller has been resumed, possibly on another worker: reload
  // anything worker-specific through current_worker().
  void switch_to(Ult* next) noexcept;
  // Picks the next ULT to run with priority >= min_priority (drains the inbox
  // and expired timers first); nullptr when there is none.
  Ult* pick(int min_priority) noexcept {
    if (--sample_countdown != 0) [[likely]]
      return pick_next(min_priority);
    return pick_sampled(min_priority);
  }
  // pick() with the start of a switch-latency sample.
  Ult* pick_sampled(int min_priority) noexcept;
  // switch_to's part for observed ULTs (Ult::observe): their run time and
  // hardware counts.
  void observe_switch(Ult* prev, Ult* next) noexcept;
  Ult* pick_next(int min_priority) noexcept {
    if (inbox.maybe_nonempty() || !timers.empty()) [[unlikely]]
      take_inbox_and_timers();
    if (rr_local) {
      // Round-robin shares work by giving it away: every 64 picks a worker
      // with ULTs waiting looks for a parked one (one branch otherwise).
      if ((++picks & 63) == 0 && rq.size() > 1) [[unlikely]]
        balance();
      return rq.pop(min_priority);
    }
    return pop_policy(min_priority);
  }
  // Makes u runnable on this worker (again: yielded, preempted, a park that
  // did not happen).
  void make_runnable(Ult* u) noexcept {
    if (rr_local)
      rq.push(u);
    else
      push_policy(u);
  }
  // u was spawned or woken by the running ULT: the policy may run it next.
  void make_runnable_hot(Ult* u) noexcept {
    if (rr_local)
      rq.push(u);
    else
      push_policy_hot(u);
  }
  // Parks the current ULT; `commit(arg, self)` runs after the switch away.
  void park_current(ParkCommit commit, void* arg) noexcept;
  void take_inbox_and_timers() noexcept;
  void balance() noexcept;  // the policy's balance(*this)
  Ult* pop_policy(int min_priority) noexcept;
  void push_policy(Ult* u) noexcept;
  void push_policy_hot(Ult* u) noexcept;
  // Ends the current ULT: switches to `next` if given (a ULT that is
  // runnable and in no queue), else to the next one picked.
  [[noreturn]] void exit_current(Ult* next = nullptr) noexcept;
  // Arms a timer for u, which must not have one armed already: at the
  // deadline, `fire(arg, u)` decides whether u is made runnable (no `fire`:
  // it is). May allocate (the heap grows).
  void add_timer(std::int64_t deadline_ns, Ult* u, TimerFire fire = nullptr, void* arg = nullptr);
  // Disarms u's timer if one is armed; it must be on this worker's heap.
  void remove_timer(Ult* u) noexcept;
  void run_after() noexcept;
  void loop();

  // --- any thread ---
  // Wakes the kernel thread if it is parked.
  void notify() noexcept;
};

// The worker whose thread is calling, or nullptr. Never cache the result
// across a switch: a resumed ULT may be on another worker. A ULT that is not
// inside a RuntimeSection may even be preempted and moved between this call
// and the next instruction: to find the calling ULT use current_ult().
Worker* current_worker() noexcept;

// The calling ULT, or nullptr on a kernel thread or a worker's own context.
// One thread-local load, so it is right even if a preemption moves the ULT
// just before or after it.
Ult* current_ult() noexcept;

}  // namespace quanta::detail
