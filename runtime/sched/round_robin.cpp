// quanta — round-robin with priorities.
#include "sched/round_robin.hpp"

#include "core/placement.hpp"
#include "core/worker.hpp"
#include "trace/hooks.hpp"

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

void RoundRobinScheduler::balance(Worker& w) noexcept {
  if (idle_.load(std::memory_order_relaxed) == 0) return;
  Worker* to = nullptr;
  for (std::size_t i = 1; i < workers_.size() && !to; ++i) {
    Worker* c = workers_[(w.index + i) % workers_.size()];
    if (c->parked.load(std::memory_order_relaxed) == 1) to = c;
  }
  if (!to) return;
  // The older half, in pick order; ULTs that may not run there (placement)
  // go back behind the rest.
  Ult* kept = nullptr;
  Ult** kept_tail = &kept;
  std::size_t sent = 0;
  for (std::size_t n = w.rq.size() / 2; n > 0; --n) {
    Ult* u = w.rq.pop();
    if (may_run_on(u, *to)) {
      to->inbox.push(u);
      ++sent;
    } else {
      *kept_tail = u;
      kept_tail = &u->next;
    }
  }
  for (Ult* u = kept; u;) {
    Ult* next = u->next;
    w.rq.push(u);
    u = next;
  }
  if (sent != 0) {
    w.steals.store(w.steals.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (w.trace) [[unlikely]]
      trace_give(w, to->index, sent);
    to->notify();
  }
}

std::size_t RoundRobinScheduler::queued(const Worker& w) const noexcept { return w.rq.size(); }

bool RoundRobinScheduler::others_waiting(const Worker& w, int running_priority) const noexcept {
  return w.rq.top_priority_estimate() >= running_priority;
}

}  // namespace quanta::detail
