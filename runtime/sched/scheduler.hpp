// quanta — the scheduling policy interface.
//
// A policy decides where runnable ULTs wait and which one a worker runs next.
// The worker owns the mechanics (switching, parking, timers, the inbox of
// ULTs made runnable by other threads); the policy owns the queues.
//
// Who calls what:
//   push_local / pop_local   only the worker `w` itself, on its own thread
//   push_remote              any thread (another worker, a kernel thread)
#pragma once

namespace quanta::detail {

struct Ult;
struct Worker;

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // u became runnable on worker w (spawned there, woken there, yielded, ...).
  virtual void push_local(Worker& w, Ult* u) noexcept = 0;
  // The next ULT for w with priority >= min_priority, or nullptr.
  virtual Ult* pop_local(Worker& w, int min_priority) noexcept = 0;
  // u became runnable off its worker; some worker must eventually run it.
  // `hint` is a preferred worker, may be null.
  virtual void push_remote(Ult* u, Worker* hint) noexcept = 0;
  virtual const char* name() const noexcept = 0;
};

}  // namespace quanta::detail
