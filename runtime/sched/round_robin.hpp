// quanta — round-robin with priorities: per-worker FIFO per priority level
// (RunQueue); ULTs made runnable from elsewhere go to a worker's inbox, new
// ones from kernel threads are dealt to workers in turn.
//
// Load balancing: a worker's queue is its own (no locks, no stealing), so
// sharing is the busy worker's job. Every 64 picks, a worker with more than
// one ULT waiting checks whether some worker is parked and, if so, hands it
// the older half of its queue (through that worker's inbox, with a wake-up).
// A worker whose ULT runs without switching (and is not preempted) does not
// pick, so it does not share until it does.
#pragma once
#include <atomic>
#include <vector>

#include "sched/scheduler.hpp"

namespace quanta::detail {

class RoundRobinScheduler final : public Scheduler {
 public:
  explicit RoundRobinScheduler(std::vector<Worker*> workers) : workers_(std::move(workers)) {}
  void push_local(Worker& w, Ult* u) noexcept override;
  Ult* pop_local(Worker& w, int min_priority) noexcept override;
  void push_remote(Ult* u, Worker* hint) noexcept override;
  bool others_waiting(const Worker& w, int running_priority) const noexcept override;
  std::size_t queued(const Worker& w) const noexcept override;
  void prepare_park(Worker&) noexcept override {
    idle_.fetch_add(1, std::memory_order_relaxed);
  }
  void after_unpark(Worker&) noexcept override {
    idle_.fetch_sub(1, std::memory_order_relaxed);
  }
  // Gives half of w's run queue to a parked worker, if there is one.
  void balance(Worker& w) noexcept override;
  const char* name() const noexcept override { return "round_robin"; }

 private:
  std::vector<Worker*> workers_;
  std::atomic<unsigned> next_{0};
  std::atomic<int> idle_{0};  // workers parked or about to park
};

}  // namespace quanta::detail
