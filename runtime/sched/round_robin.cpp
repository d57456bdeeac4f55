// quanta — round-robin with priorities.
#include "sched/round_robin.hpp"

#include "core/worker.hpp"

namespace quanta::detail {

void RoundRobinScheduler::push_local(Worker& w, Ult* u) noexcept { w.rq.push(u); }

Ult* RoundRobinScheduler::pop_local(Worker& w, int min_priority) noexcept {
  return w.rq.pop(min_priority);
}

void RoundRobinScheduler::push_remote(Ult* u, Worker* hint) noexcept {
  Worker* w = hint;
  if (!w) w = workers_[next_.fetch_add(1, std::memory_order_relaxed) % workers_.size()];
  w->inbox.push(u);
  w->notify();
}

bool RoundRobinScheduler::others_waiting(const Worker& w, int running_priority) const noexcept {
  return w.rq.top_priority_estimate() >= running_priority;
}

}  // namespace quanta::detail
