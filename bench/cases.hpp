// The measured cases of quanta-bench. Each function does the case's setup
// (contexts, a runtime) and returns its batch runner, which owns that setup;
// the operation each counts is stated beside it.
#pragma once
#include "sampling.hpp"

namespace qbench {

// quanta_ctx_switch ping-pong between two contexts; per switch.
Batch quanta_raw_switch();
// Boost.Context jump_fcontext ping-pong between two contexts; per switch.
Batch boost_fcontext_switch();
// The same two switches, made by two contexts running one loop (one call
// site, as in a runtime); per switch.
Batch quanta_same_site_switch();
Batch boost_fcontext_same_site_switch();

// Two ULTs on one worker (no preemption), each yielding ops / 2 times; per
// yield.
Batch quanta_yield();
// The same on a round-robin runtime.
Batch quanta_yield_rr();
// quanta_yield with Config::metrics = false (no switch-latency sampling).
Batch quanta_yield_metrics_off();
// quanta_yield with Config::thread_metrics = true (every run timed).
Batch quanta_yield_thread_metrics();
// quanta_yield with both ULTs spawned with ThreadBuilder::profiling(true).
Batch quanta_yield_profiled();
// quanta_yield with tracing on (Config::trace_file = /dev/null, default ring),
// the ring filled once before: the steady state of a traced run.
Batch quanta_yield_traced();
// The same with a new runtime per batch, so the batch's events land in ring
// pages never touched before (the first pass of a ring pays their faults).
Batch quanta_yield_traced_fresh();
// Two fibers on one thread, each yielding ops / 2 times; per yield.
Batch boost_fiber_yield();
// Two kernel threads passing a turn with std::mutex + std::condition_variable;
// per handoff.
Batch std_thread_handoff();

// Spawn of a ULT returning 1 and join of it, from inside a ULT on one worker;
// per spawn+join.
Batch quanta_spawn_join();
// The same on a round-robin runtime.
Batch quanta_spawn_join_rr();
// quanta_spawn_join with tracing on, the ring filled once, as quanta_yield_traced.
Batch quanta_spawn_join_traced();
// Construction of an empty fiber and join of it, from inside a fiber; per
// construct+join.
Batch boost_fiber_spawn_join();
// std::thread construction with an empty function and join; per create+join.
Batch std_thread_spawn_join();

}  // namespace qbench
