// quanta — the work-stealing scheduler.
//
// Per worker:
//   * a Chase-Lev deque (sched/chase_lev.hpp). ULTs spawned or woken by the
//     running ULT are pushed at its bottom and the owner pops there (LIFO):
//     the newest runs next — fork-join and message-passing locality, and a
//     depth-first order that keeps the number of live ULTs (and stacks) small.
//     Thieves take the oldest from the top.
//   * a private FIFO for ULTs that yielded or were preempted: they go behind
//     everything else, as a yield must. Owner only, so yield costs no atomic
//     operation; when other workers are idle the owner moves half of it into
//     the deque (every 61 picks) so they can steal it.
//   * every 61 picks the owner first looks at the global queue and the top
//     of its deque, so that old ULTs are not starved by a ping-pong at the
//     bottom (Go checks its global queue every 61 schedules for the same
//     reason).
// Outside spawns and deque overflow go to a global moodycamel
// ConcurrentQueue. An idle worker takes from the global queue, then steals
// half of a victim's deque, victims ordered by topology closeness (same core,
// same cache, same NUMA node, then farther).
//
// ULTs with placement restrictions (core/placement.hpp): one bound to a
// single worker (cpu_affinity of one worker's CPU, or MigrationPolicy::
// Prohibited once it has run) never enters the deque, only its worker's
// FIFO, and the FIFO's share for idle workers skips it; restricted ULTs never
// enter the global queue (overflow keeps them in the FIFO, and spawns and
// wakes from elsewhere go to an allowed worker's inbox, not push_remote); a
// thief that steals a ULT it may not run sends it to the inbox of a worker
// that may (dealt in turn), so ULTs allowed on several workers are still
// shared among those.
//
// Preempted ULTs (as Go's preempted goroutines) go to a shared FIFO, not
// back to their worker: CPU-bound ULTs then take turns on all workers, not
// only on the one the spawn left them on. A worker takes one at a time from
// it when it has nothing of its own and the global queue is empty, and every
// 61 picks in any case (every other time before the global queue).
//
// Parking (the "spinning" protocol of Go's scheduler): a worker that finds
// no work becomes *spinning* and searches for a while; spawned work wakes one
// parked worker only when no worker is spinning (a spinning worker will find
// it). A spinning worker that gives up decrements the spinning count *before*
// re-checking every queue one last time, and whoever adds work publishes it
// *before* reading the counts (a seq_cst fence on both sides): either the
// adder sees a worker that will look again, or the parker sees the work. No
// lost wake-ups, no busy-waiting when idle.
//
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "sched/chase_lev.hpp"
#include "sched/scheduler.hpp"

namespace quanta::detail {

class WorkStealingScheduler final : public Scheduler {
 public:
  // workers[i]->index == i; victims_of[i]: the order in which worker i steals.
  WorkStealingScheduler(std::vector<Worker*> workers, std::vector<std::vector<unsigned>> victims_of);
  ~WorkStealingScheduler() override;

  void push_local(Worker& w, Ult* u) noexcept override;
  // To the shared queue of preempted ULTs (restricted ULTs: push_local).
  void push_preempted(Worker& w, Ult* u) noexcept override;
  void push_hot(Worker& w, Ult* u) noexcept override;
  Ult* pop_local(Worker& w, int min_priority) noexcept override;
  void push_remote(Ult* u, Worker* hint) noexcept override;
  Ult* find_work(Worker& w) noexcept override;
  void prepare_park(Worker& w) noexcept override;
  bool park_cancelled(Worker& w) noexcept override;
  void after_unpark(Worker& w) noexcept override;
  bool others_waiting(const Worker& w, int running_priority) const noexcept override;
  std::size_t queued(const Worker& w) const noexcept override;
  std::size_t shared_queued() const noexcept override;
  const char* name() const noexcept override { return "work_stealing"; }

  // Room for the frontier of a deep fork-join tree run depth-first (fib(32)
  // keeps about 500 ULTs queued per worker): overflowing to the global FIFO
  // hands its oldest, biggest subtrees to breadth-first order, and the number
  // of live ULTs (and stacks) explodes.
  static constexpr std::size_t kDequeCapacity = 8192;
  // Most ULTs moved from the global queue per take (batches live on the
  // caller's stack, which may be a ULT's).
  static constexpr std::size_t kGlobalBatch = 64;
  static constexpr int kSpinRounds = 64;
  // A ULT at the top of a deque waits at most about this long while its
  // owner keeps running newer ones (a ping-pong at the bottom) before the
  // owner takes it (checked every 61 picks).
  static constexpr std::int64_t kFairnessNs = 10'000'000;

 private:
  struct PerWorker;
  PerWorker& of(const Worker& w) const noexcept;
  // Work was added where any worker may take it: wake a parked worker if
  // nobody is searching.
  void notify_work() noexcept;
  // Work was added to w's own deque by w: as notify_work, without the
  // store-load fence (see push_hot).
  void notify_local_work() noexcept;
  Ult* steal_from(Worker& thief, unsigned victim) noexcept;
  Ult* pop_local_inner(Worker& w, PerWorker& p) noexcept;
  void stop_spinning(PerWorker& p) noexcept;
  static Ult* fifo_pop(PerWorker& p) noexcept;
  static void fifo_push(PerWorker& p, Ult* u) noexcept;
  // Moves the n oldest of the private FIFO into the deque for thieves
  // (except ULTs bound to this worker or preferring its node) and wakes an
  // idle worker.
  void share_fifo(PerWorker& p, std::size_t n) noexcept;
  Ult* take_global(Worker& w) noexcept;
  Ult* take_preempted() noexcept;  // one, the oldest as far as it can tell
  bool any_work_visible() const noexcept;
  void overflow(PerWorker& p, Ult* u) noexcept;

  std::vector<Worker*> workers_;
  std::vector<std::unique_ptr<PerWorker>> per_;
  struct GlobalQueue;  // moodycamel::ConcurrentQueue<Ult*>
  std::unique_ptr<GlobalQueue> global_;
  std::unique_ptr<GlobalQueue> preempted_;  // preempted ULTs, any worker's
  std::atomic<int> spinning_{0};
  std::atomic<int> idle_{0};
  std::mutex idle_mu_;
  std::vector<Worker*> idle_list_;  // parked workers, guarded by idle_mu_
};

}  // namespace quanta::detail
