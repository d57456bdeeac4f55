// quanta — where the runtime records trace events (Config::trace_file).
//
// Each hook is called behind one branch on a pointer that is null while
// tracing is off, so that is all it costs then:
//
//   if (trace) [[unlikely]] trace_switch(*this, prev, next);    // Worker::trace
//   if (u->rt->trace) [[unlikely]] trace_wake(w, u);           // RuntimeCore::trace
//
// Every hook runs on the thread of the worker it records on, where that
// thread cannot be preempted: inside a RuntimeSection of the ULT (spawn,
// wake, first run), in switch_to and the scheduler's pick and steal paths
// (which run in a section, on the worker's own context, or in the
// preemption handler once it has entered its own section). So a hook is
// never interrupted by another hook of the same worker, and a ULT is never
// moved to another worker in the middle of one. Hooks allocate nothing, take
// no lock and are async-signal-safe: the preemption handler reaches
// trace_switch, trace_timer_wake and trace_give through pick and switch_to.
//
// Events that are not recorded: wakes and spawns made from a kernel thread
// or from a worker of another runtime (there is no track of this runtime
// they could be written to without a lock); the ULT still appears as soon
// as it runs.
#pragma once
#include <cstddef>

namespace quanta::detail {

struct Worker;
struct Ult;

// In Worker::switch_to, w.after already set: the end of prev's run slice
// (reason from w.after) and the start of next's; nothing for w.self.
void trace_switch(Worker& w, Ult* prev, Ult* next) noexcept;
// At a ULT's first run (ult_main): keeps its name, if it has one.
void trace_first_run(Worker& w, Ult* u) noexcept;
// The ULT running on w spawned `child` (ult_start).
void trace_spawn(Worker& w, Ult* child) noexcept;
// The caller (on worker `waker`, null on a kernel thread) made u runnable.
// Call when u->rt->trace is set; records only when waker is a worker of
// u's runtime.
void trace_wake(Worker* waker, Ult* u) noexcept;
// A timer of w (sleep, timed wait) made u runnable.
void trace_timer_wake(Worker& w, Ult* u) noexcept;
// Work stealing: thief took `count` ULTs from worker `victim` (count may be 0).
void trace_steal(Worker& thief, unsigned victim, std::size_t count) noexcept;
// Round-robin balance: giver handed `count` ULTs to worker `to`.
void trace_give(Worker& giver, unsigned to, std::size_t count) noexcept;

}  // namespace quanta::detail
