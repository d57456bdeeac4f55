// quanta — the work-stealing scheduler (see work_stealing.hpp).
#include "sched/work_stealing.hpp"

#include <concurrentqueue.h>

#include <algorithm>

#include "arch/cpu.hpp"
#include "core/clock.hpp"
#include "core/placement.hpp"
#include "core/worker.hpp"
#include "trace/hooks.hpp"

namespace quanta::detail {

struct WorkStealingScheduler::GlobalQueue {
  moodycamel::ConcurrentQueue<Ult*> q;
  std::atomic<std::int64_t> size{0};  // approximate, for cheap emptiness checks
};

struct alignas(arch::kDestructiveInterference) WorkStealingScheduler::PerWorker {
  explicit PerWorker(std::vector<unsigned> v)
      : dq(kDequeCapacity), overflow_batch(dq.overflow_batch_max() + 1), victims(std::move(v)) {}
  ChaseLevDeque<Ult*> dq;
  std::vector<Ult*> overflow_batch;  // owner only: scratch of overflow()
  // Yielded and preempted ULTs, oldest first (owner only; linked by Ult::next).
  Ult* fifo_head = nullptr;
  Ult* fifo_tail = nullptr;
  std::size_t fifo_size = 0;
  std::atomic<std::size_t> fifo_estimate{0};  // for the monitor
  std::vector<unsigned> victims;
  // Searching for work. Set by the owner, and by a waker that takes the
  // parked owner off the idle list (so the owner knows it was woken).
  std::atomic<bool> spinning{false};
  std::uint32_t ticks = 0;  // owner only: picks made
  std::int64_t fair_at = 0;  // owner only: when to take the deque's top next
};

WorkStealingScheduler::WorkStealingScheduler(std::vector<Worker*> workers,
                                             std::vector<std::vector<unsigned>> victims_of)
    : workers_(std::move(workers)),
      global_(std::make_unique<GlobalQueue>()),
      preempted_(std::make_unique<GlobalQueue>()) {
  for (std::size_t i = 0; i < workers_.size(); ++i)
    per_.push_back(std::make_unique<PerWorker>(std::move(victims_of[i])));
  idle_list_.reserve(workers_.size());
}

WorkStealingScheduler::~WorkStealingScheduler() = default;

WorkStealingScheduler::PerWorker& WorkStealingScheduler::of(const Worker& w) const noexcept {
  return *per_[w.index];
}

void WorkStealingScheduler::overflow(PerWorker& p, Ult* u) noexcept {
  // Full ring: move the oldest half to the global queue, as Go's runqputslow.
  Ult** batch = p.overflow_batch.data();
  // ULTs restricted to some workers stay here, in the FIFO: any worker takes
  // from the global queue.
  std::size_t n = p.dq.pop_half_for_overflow(batch);
  batch[n++] = u;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (batch[i]->allowed) [[unlikely]]
      fifo_push(p, batch[i]);
    else
      batch[kept++] = batch[i];
  }
  global_->q.enqueue_bulk(batch, kept);
  global_->size.fetch_add(static_cast<std::int64_t>(kept), std::memory_order_relaxed);
}

void WorkStealingScheduler::fifo_push(PerWorker& p, Ult* u) noexcept {
  u->next = nullptr;
  if (p.fifo_tail)
    p.fifo_tail->next = u;
  else
    p.fifo_head = u;
  p.fifo_tail = u;
  ++p.fifo_size;
  p.fifo_estimate.store(p.fifo_size, std::memory_order_relaxed);
}

void WorkStealingScheduler::push_local(Worker& w, Ult* u) noexcept {
  // Runnable again after running here (yield, preemption): behind the others.
  PerWorker& p = of(w);
  fifo_push(p, u);
  // The FIFO is private: while a worker is idle, offer it the older half
  // (a preempted spinner would otherwise keep waiting here while another
  // worker sleeps). One relaxed load when nobody is idle.
  if (idle_.load(std::memory_order_relaxed) > 0) [[unlikely]]
    share_fifo(p, (p.fifo_size + 1) / 2);
}

void WorkStealingScheduler::push_preempted(Worker& w, Ult* u) noexcept {
  if (u->allowed || u->prefer) [[unlikely]] {
    push_local(w, u);  // restricted ULTs never enter a shared queue
    return;
  }
  preempted_->q.enqueue(u);
  preempted_->size.fetch_add(1, std::memory_order_relaxed);
  notify_work();
}

Ult* WorkStealingScheduler::take_preempted() noexcept {
  if (preempted_->size.load(std::memory_order_relaxed) <= 0) return nullptr;
  Ult* u = nullptr;
  if (!preempted_->q.try_dequeue(u)) return nullptr;
  preempted_->size.fetch_sub(1, std::memory_order_relaxed);
  return u;
}

void WorkStealingScheduler::share_fifo(PerWorker& p, std::size_t n) noexcept {
  bool moved = false;
  for (; n > 0; --n) {
    Ult* u = fifo_pop(p);
    if ((u->place & kPlaceOne) || u->prefer) [[unlikely]] {
      // Bound here, or placed on this worker's node: not for thieves.
      fifo_push(p, u);
    } else {
      if (!p.dq.push(u)) overflow(p, u);
      moved = true;
    }
  }
  if (moved) notify_work();
}

Ult* WorkStealingScheduler::fifo_pop(PerWorker& p) noexcept {
  Ult* u = p.fifo_head;
  if (!u) return nullptr;
  p.fifo_head = u->next;
  if (!p.fifo_head) p.fifo_tail = nullptr;
  --p.fifo_size;
  p.fifo_estimate.store(p.fifo_size, std::memory_order_relaxed);
  u->next = nullptr;
  return u;
}

void WorkStealingScheduler::push_hot(Worker& w, Ult* u) noexcept {
  // A ULT bound to this worker never enters the deque, which others steal
  // from: it waits in the FIFO (it gives up the run-next position).
  if (u->place & kPlaceOne) [[unlikely]] {
    push_local(w, u);
    return;
  }
  PerWorker& p = of(w);
  if (!p.dq.push(u)) overflow(p, u);
  notify_local_work();
}

void WorkStealingScheduler::notify_local_work() noexcept {
  // No store-load fence here, unlike notify_work: a spawn or wake costs one
  // fence less. If the loads below are ordered before the push (and a
  // parking worker's last look misses it), an idle worker may sleep through
  // this work, but the work is not lost: it sits in the deque of the worker
  // running this code, which runs it itself unless someone steals it first.
  // Only parallelism is lost, until the next spawn or wake.
  if (idle_.load(std::memory_order_relaxed) == 0) return;
  if (spinning_.load(std::memory_order_relaxed) != 0) return;
  notify_work();
}

Ult* WorkStealingScheduler::pop_local(Worker& w, int) noexcept {
  PerWorker& p = of(w);
  if (p.spinning.load(std::memory_order_relaxed)) [[unlikely]] {
    // Woken as a searcher but found work right away: stop counting as one,
    // or nobody would be woken for new work.
    if (Ult* u = pop_local_inner(w, p)) {
      stop_spinning(p);
      return u;
    }
    return nullptr;
  }
  return pop_local_inner(w, p);
}

void WorkStealingScheduler::stop_spinning(PerWorker& p) noexcept {
  p.spinning.store(false, std::memory_order_relaxed);
  // The last searcher found work: there may be more, let another search.
  if (spinning_.fetch_sub(1, std::memory_order_seq_cst) == 1) notify_work();
}

Ult* WorkStealingScheduler::pop_local_inner(Worker& w, PerWorker& p) noexcept {
  if (++p.ticks % 61 == 0) [[unlikely]] {
    // Fairness: the global queue (spawns from outside) and preempted ULTs,
    // each first in turn (either may be fed without end), then, at most
    // every kFairnessNs, the oldest of the deque. Taking the oldest more
    // often would turn a fork-join tree run depth-first into breadth-first,
    // with an explosion of live ULTs.
    if (p.ticks % 122 == 0) {
      if (Ult* q = take_preempted()) return q;
    }
    if (Ult* g = take_global(w)) return g;
    if (Ult* q = take_preempted()) return q;
    if (!p.dq.empty_estimate()) {
      const std::int64_t now = now_ns();
      if (now >= p.fair_at) {
        p.fair_at = now + kFairnessNs;
        for (;;) {
          Stolen<Ult*> s = p.dq.steal();
          if (s.status == Steal::Success) return s.item;
          if (s.status == Steal::Empty) break;
        }
      }
    }
    // Let idle workers steal what waits in the private FIFO.
    if (p.fifo_size > 1 && idle_.load(std::memory_order_relaxed) > 0)
      share_fifo(p, p.fifo_size / 2);
  }
  if (!p.dq.empty_estimate()) {
    if (Ult* u = p.dq.pop()) return u;  // the newest: LIFO
  }
  if (Ult* u = fifo_pop(p)) return u;
  if (Ult* u = take_global(w)) return u;
  return take_preempted();
}

void WorkStealingScheduler::push_remote(Ult* u, Worker*) noexcept {
  global_->q.enqueue(u);
  global_->size.fetch_add(1, std::memory_order_relaxed);
  notify_work();
}

void WorkStealingScheduler::notify_work() noexcept {
  // Publish the work before reading who is idle (pairs with the fence in
  // prepare_park / find_work's last check).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (idle_.load(std::memory_order_relaxed) == 0) return;
  if (spinning_.load(std::memory_order_relaxed) != 0) return;
  Worker* wake = nullptr;
  {
    std::lock_guard lk(idle_mu_);
    if (idle_list_.empty() || spinning_.load(std::memory_order_relaxed) != 0) return;
    wake = idle_list_.back();
    idle_list_.pop_back();
    idle_.fetch_sub(1, std::memory_order_relaxed);
    // The woken worker starts out searching, so the next adder does not wake
    // another one for the same work.
    spinning_.fetch_add(1, std::memory_order_seq_cst);
    per_[wake->index]->spinning.store(true, std::memory_order_seq_cst);
  }
  wake->notify();
}

Ult* WorkStealingScheduler::take_global(Worker& w) noexcept {
  if (global_->size.load(std::memory_order_relaxed) <= 0) return nullptr;
  // Take a share, not everything: other workers may be looking too.
  const std::size_t share =
      std::clamp<std::size_t>(static_cast<std::size_t>(global_->size.load(std::memory_order_relaxed)) /
                                  workers_.size() + 1,
                              1, kGlobalBatch);
  Ult* batch[kGlobalBatch];
  std::size_t n = global_->q.try_dequeue_bulk(batch, share);
  if (n == 0) return nullptr;
  global_->size.fetch_sub(static_cast<std::int64_t>(n), std::memory_order_relaxed);
  PerWorker& p = of(w);
  for (std::size_t i = 1; i < n; ++i)
    if (!p.dq.push(batch[i])) overflow(p, batch[i]);
  // What we took beyond the one we run is stealable now: an idle worker may
  // take it (or it waits here until this worker gets to it).
  if (n > 1) notify_local_work();
  return batch[0];
}

Ult* WorkStealingScheduler::steal_from(Worker& thief, unsigned victim) noexcept {
  // Half of the victim's deque, straight into ours (no batch on this stack,
  // which may be a ULT's); the first one taken is run.
  PerWorker& mine = of(thief);
  const std::size_t room = mine.dq.capacity() - mine.dq.size_estimate();
  Ult* first = nullptr;
  std::size_t taken = 0;
  per_[victim]->dq.steal_batch_each(std::min(room, kDequeCapacity / 2), [&](Ult* u) noexcept {
    ++taken;
    if (u->allowed && !may_run_on(u, thief)) [[unlikely]] {
      // Restricted to workers that do not include the thief: to the inbox
      // of one that may run it, dealt in turn so that they share the work.
      send_to(deal_worker(*thief.rt, u->allowed), u);
    } else if (!first) {
      first = u;
    } else {
      static_cast<void>(mine.dq.push(u));  // cannot fail: at most `room` taken
    }
  });
  if (thief.trace) [[unlikely]]
    trace_steal(thief, victim, taken);
  return first;
}

bool WorkStealingScheduler::any_work_visible() const noexcept {
  if (global_->size.load(std::memory_order_relaxed) > 0) return true;
  if (preempted_->size.load(std::memory_order_relaxed) > 0) return true;
  for (auto& p : per_)
    if (!p->dq.empty_estimate()) return true;
  return false;
}

Ult* WorkStealingScheduler::find_work(Worker& w) noexcept {
  PerWorker& me = of(w);
  if (!me.spinning.load(std::memory_order_relaxed)) {
    // Limit searchers to half the workers (as Go does): more only burn CPU.
    const int s = spinning_.load(std::memory_order_relaxed);
    if (2 * s >= static_cast<int>(workers_.size()) && s > 0) return nullptr;
    me.spinning.store(true, std::memory_order_relaxed);
    spinning_.fetch_add(1, std::memory_order_seq_cst);
  }
  for (int round = 0; round < kSpinRounds; ++round) {
    Ult* u = take_global(w);
    for (std::size_t i = 0; !u && i < me.victims.size(); ++i) {
      u = steal_from(w, me.victims[i]);
      if (u) w.steals.store(w.steals.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    if (!u) u = pop_local_inner(w, me);  // pushed to us meanwhile (timers, wakes)
    if (u) {
      stop_spinning(me);
      return u;
    }
    if (w.inbox.maybe_nonempty() || !w.timers.empty()) break;  // the worker loop handles these
    arch::cpu_relax();
  }
  // Give up searching. Decrement first, then look once more: an adder that
  // saw us spinning did not wake anyone.
  me.spinning.store(false, std::memory_order_relaxed);
  spinning_.fetch_sub(1, std::memory_order_seq_cst);
  if (any_work_visible()) {
    me.spinning.store(true, std::memory_order_relaxed);
    spinning_.fetch_add(1, std::memory_order_seq_cst);
    return find_work(w);
  }
  return nullptr;
}

void WorkStealingScheduler::prepare_park(Worker& w) noexcept {
  std::lock_guard lk(idle_mu_);
  idle_list_.push_back(&w);
  idle_.fetch_add(1, std::memory_order_seq_cst);
}

bool WorkStealingScheduler::park_cancelled(Worker& w) noexcept {
  // Called after w published parked = 1. Either a waker took w off the list
  // (and set its spinning flag before looking at `parked`), or w must see
  // any work added before the adder read idle_ (Dekker with notify_work).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (of(w).spinning.load(std::memory_order_seq_cst)) return true;
  return any_work_visible();
}

void WorkStealingScheduler::after_unpark(Worker& w) noexcept {
  std::lock_guard lk(idle_mu_);
  auto it = std::find(idle_list_.begin(), idle_list_.end(), &w);
  if (it != idle_list_.end()) {
    // Woke by itself (timer, cancelled park): not counted as spinning.
    idle_list_.erase(it);
    idle_.fetch_sub(1, std::memory_order_relaxed);
  }
  // Otherwise a waker took it off the list and counted it as spinning: it
  // searches next, through find_work.
}

std::size_t WorkStealingScheduler::queued(const Worker& w) const noexcept {
  const PerWorker& p = *per_[w.index];
  return p.dq.size_estimate() + p.fifo_estimate.load(std::memory_order_relaxed);
}

std::size_t WorkStealingScheduler::shared_queued() const noexcept {
  const std::int64_t n = global_->size.load(std::memory_order_relaxed) +
                         preempted_->size.load(std::memory_order_relaxed);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

bool WorkStealingScheduler::others_waiting(const Worker& w, int) const noexcept {
  const PerWorker& p = *per_[w.index];
  return !p.dq.empty_estimate() || p.fifo_estimate.load(std::memory_order_relaxed) > 0 ||
         global_->size.load(std::memory_order_relaxed) > 0 ||
         preempted_->size.load(std::memory_order_relaxed) > 0;
}

}  // namespace quanta::detail
