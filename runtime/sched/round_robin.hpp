// quanta — round-robin with priorities: per-worker FIFO per priority level
// (RunQueue); ULTs made runnable from elsewhere go to a worker's inbox, new
// ones from kernel threads are dealt to workers in turn.
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
  const char* name() const noexcept override { return "round_robin"; }

 private:
  std::vector<Worker*> workers_;
  std::atomic<unsigned> next_{0};
};

}  // namespace quanta::detail
