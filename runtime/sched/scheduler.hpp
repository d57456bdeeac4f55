// quanta — the scheduling policy interface.
//
// A policy decides where runnable ULTs wait and which one a worker runs next.
// The worker owns the mechanics (switching, parking, timers, the inbox of
// ULTs made runnable by other threads); the policy owns the queues.
//
// Who calls what:
//   push_local, push_preempted, push_hot, pop_local, find_work, prepare_park,
//   park_cancelled, after_unpark, balance
//                            only the worker `w` itself, on its own thread
//   push_remote              any thread (another worker, a kernel thread)
//   others_waiting           the preemption monitor (reads relaxed state only)
#pragma once

namespace quanta::detail {

struct Ult;
struct Worker;

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // u became runnable on worker w again (yielded, preempted): behind the
  // others.
  virtual void push_local(Worker& w, Ult* u) noexcept = 0;
  // u was preempted on w (switched out by the preemption handler, or at the
  // end of a section that deferred it). May be another place than
  // push_local's: a policy may share preempted ULTs between workers.
  virtual void push_preempted(Worker& w, Ult* u) noexcept { push_local(w, u); }
  // u was spawned or woken by the ULT running on w: a policy may run it next.
  // Like push_local, only for a u that may run on w; a policy that shares
  // its queues with other workers must keep a ULT with kPlaceOne to w and
  // must not let a worker run a ULT it may not run on.
  virtual void push_hot(Worker& w, Ult* u) noexcept { push_local(w, u); }
  // The next ULT for w with priority >= min_priority, or nullptr.
  virtual Ult* pop_local(Worker& w, int min_priority) noexcept = 0;
  // u became runnable off its worker; some worker must eventually run it.
  // `hint` is a preferred worker, may be null. Never called for a ULT with
  // placement restrictions (Ult::allowed): the core sends those to the inbox
  // of a worker they may run on (core/placement.hpp).
  virtual void push_remote(Ult* u, Worker* hint) noexcept = 0;
  // w found nothing locally: work from elsewhere (global queue, stealing),
  // or nullptr. May spin for a while.
  virtual Ult* find_work(Worker&) noexcept { return nullptr; }
  // The parking protocol, in this order on w's thread:
  //   prepare_park(w)       register w as idle
  //   w.parked = 1 (seq_cst)
  //   park_cancelled(w)     true: work appeared or w was woken: do not sleep
  //   futex sleep
  //   after_unpark(w)       always, slept or not
  virtual void prepare_park(Worker&) noexcept {}
  virtual bool park_cancelled(Worker&) noexcept { return false; }
  virtual void after_unpark(Worker&) noexcept {}
  // w (the owner) has ULTs waiting: a policy may move some to idle workers.
  virtual void balance(Worker&) noexcept {}
  // Whether ULTs wait in the policy's queues for w's attention (monitor, any
  // thread, approximate); the inbox and timers are checked by the caller.
  virtual bool others_waiting(const Worker& w, int running_priority) const noexcept = 0;
  virtual const char* name() const noexcept = 0;
  // Any thread (metrics): about how many runnable ULTs wait in w's own
  // queues, and in queues that every worker takes from.
  virtual std::size_t queued(const Worker& w) const noexcept = 0;
  virtual std::size_t shared_queued() const noexcept { return 0; }
};

}  // namespace quanta::detail
