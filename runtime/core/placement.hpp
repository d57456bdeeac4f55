// quanta — per-ULT placement: CPU affinity, NUMA node, migration policy,
// stack prefetch and huge-page stacks (ThreadBuilder).
//
// A ULT's `allowed` bitmap names the workers it may run on (null: any). The
// invariant that keeps it honest: **every ULT in a worker's queues (run
// queue, work-stealing deque or FIFO) may run on that worker.** It holds
// because
//   * a ULT is requeued (yield, preemption, failed park, timer) on the
//     worker it just ran on, and a worker runs only ULTs from its queues;
//   * a spawn or a wake from a worker the ULT may not run on goes to the
//     inbox of one it may run on (send_to), never to a scheduler's shared
//     queue: restricted ULTs never enter the work-stealing global queue;
//   * a thief that steals a ULT it may not run sends it to the inbox of one
//     that may (dealt in turn among them), and ULTs bound to one worker
//     (kPlaceOne) never enter a stealable deque at all.
// Hot paths pay one predictable branch on `allowed` or `place` where a ULT
// changes worker (spawn, wake, steal, the joiner hand-off) and one on
// `place` in switch_to (prefetch); a ULT without placement options has
// `allowed == prefer == nullptr` and `place == 0`.
#pragma once
#include <cstddef>
#include <cstdint>

#include "arch/cpu.hpp"
#include "core/ult.hpp"
#include "core/worker.hpp"
#include "quanta/detail/task.hpp"

namespace quanta::detail {

struct RuntimeCore;

// Ult::place flags.
inline constexpr std::uint8_t kPlaceOne = 1;       // `allowed` holds a single worker
inline constexpr std::uint8_t kPlaceBind = 2;      // Prohibited, not yet run: bind at first run
inline constexpr std::uint8_t kPlacePrefetch = 4;  // prefetch the context before switching to it
inline constexpr std::uint8_t kPlaceSpawn = 8;     // `allowed` or `prefer` set: placed spawn

// Workers of one runtime fit in kMaxWorkers bits.
inline constexpr std::size_t kMaxMaskWords = (kMaxWorkers + 63) / 64;

// Stacks of at least this size may be backed by transparent huge pages.
inline constexpr std::size_t kHugePageSize = std::size_t{2} << 20;

inline bool mask_has(const std::uint64_t* m, unsigned i) noexcept {
  return (m[i / 64] >> (i % 64)) & 1u;
}

// Whether u may run on w.
inline bool may_run_on(const Ult* u, const Worker& w) noexcept {
  return !u->allowed || mask_has(u->allowed, w.index);
}

// Makes u runnable on `to` from any thread: its inbox, then a wake-up.
inline void send_to(Worker* to, Ult* u) noexcept {
  to->inbox.push(u);
  to->notify();
}

// What ult_create needs to lay out a placed ULT. Trivial and uninitialised
// until plan_placement fills it, so that a spawn without placement options
// pays nothing for it.
struct PlacementPlan {
  std::uint64_t allowed[kMaxMaskWords];  // valid when has_allowed
  std::uint64_t prefer[kMaxMaskWords];   // valid when prefer_own
  bool has_allowed;
  bool prefer_own;                      // prefer is allowed & the node's workers
  const std::uint64_t* prefer_shared;  // the node's workers (runtime memory), or null
  std::uint8_t place;
  int bind_node;  // bind the stack to this node (machine topology only), or -1
  bool huge;      // a huge-page stack

  // Bytes of ULT memory the bitmaps take, 8-aligned.
  std::size_t mask_bytes(const RuntimeCore& rt) const noexcept;
  // The stack needs a mapping of its own.
  bool dedicated() const noexcept { return huge || bind_node >= 0; }
};

// Checks the placement attributes against runtime rt and plans them.
// Throws ConfigError naming a bad CPU set or NUMA node.
void plan_placement(const RuntimeCore& rt, const PlacementAttrs& a, std::size_t stack_size,
                    PlacementPlan& plan);
// Binds a fresh dedicated stack to plan.bind_node; ResourceError when that
// is refused (a single-node system without memory binding is fine).
void bind_stack(const RuntimeCore& rt, const StackMem& s, unsigned node);
// Fills u's placement from the plan; the bitmaps go to `masks` (mask_bytes).
void apply_placement(Ult* u, const PlacementPlan& plan, const RuntimeCore& rt, void* masks) noexcept;

// One of the workers in m (not empty), dealt in turn; any thread.
Worker* deal_worker(RuntimeCore& rt, const std::uint64_t* m) noexcept;

// ult_start for a ULT with kPlaceSpawn, from w (current_worker(), may be
// null or of another runtime).
void start_placed(Ult* u, Worker* w) noexcept;
// wake_from for a ULT that may not run on w (or w is not of its runtime):
// back to the worker it last ran on, which it may run on.
inline void wake_placed(Ult* u) noexcept { send_to(u->worker, u); }

// First run of a Prohibited ULT: it stays on this worker from now on.
inline void bind_to_worker(Ult* u) noexcept {
  u->allowed = u->worker->only_self.data();
  u->place = static_cast<std::uint8_t>((u->place & ~kPlaceBind) | kPlaceOne);
}

// Prefetches the saved context at u->sp and the stack lines above it (the
// top of the ULT's live frames).
inline void prefetch_context(const Ult* u) noexcept {
  const char* sp = static_cast<const char*>(u->sp);
  for (std::size_t i = 0; i < 4; ++i) arch::prefetch_write(sp + i * arch::kCacheLine);
}

}  // namespace quanta::detail
