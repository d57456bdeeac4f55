// quanta — creating, starting, joining and releasing ULTs; this_thread.
#include "core/ult_ops.hpp"

#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <thread>

#include "arch/context.h"
#include "arch/cpu.hpp"
#include "core/clock.hpp"
#include "core/futex.hpp"
#include "core/no_preempt.hpp"
#include "core/placement.hpp"
#include "core/ult_locals.hpp"
#include "core/runtime_core.hpp"
#include "core/sanitizer.hpp"
#include "metrics/thread_profile.hpp"
#include "quanta/error.hpp"
#include "quanta/runtime.hpp"
#include "quanta/thread.hpp"
#include "rcu/rcu_runtime.hpp"
#include "sched/scheduler.hpp"
#include "stack/stack.hpp"
#include "stack/stack_directory.hpp"
#include "trace/hooks.hpp"

namespace quanta::detail {
namespace {

// What a ULT's stack must keep free below its control block, task and name.
constexpr std::size_t kMinUsableStack = 8 * 1024;
constexpr std::uint64_t kIdBlock = 1024;

std::atomic<std::uint64_t> g_next_id{1};

RuntimeCore* core_of(Runtime& rt) noexcept { return &rt.impl(); }

void free_stack(const StackMem& s, Worker* w) noexcept {
  if (s.dedicated) [[unlikely]]
    unmap_dedicated_stack(s);
  else if (w && s.size == w->stacks.stack_size())
    w->stacks.put(s);
  else
    StackPool::instance().release(s);
}

void report_detached_error(const Ult* u) noexcept {
  std::string what = "an exception not derived from std::exception";
  try {
    std::rethrow_exception(u->task->error);
  } catch (const std::exception& e) {
    what = std::string("\"") + e.what() + "\"";
  } catch (...) {
  }
  std::fprintf(stderr, "quanta: detached ULT %llu \"%s\" ended with an uncaught exception: %s\n",
               static_cast<unsigned long long>(u->id), u->name ? u->name : "", what.c_str());
}

// A ULT whose run time (and, profiled, hardware counts) is measured.
void observe_from_spawn(Ult* u, bool profiling) noexcept {
  u->observe = kObserveTime;
  if (profiling) {
    u->observe |= kObserveHw;
    u->profile = profile_create();
    profile_open_workers(*u->rt);
  }
  u->born_ticks = arch::cycle_counter();
}

// Before a ULT's memory is given back: not findable by id any more.
void forget_ult(Ult* u) noexcept {
  StackDirectory::instance().publish(u->stack.slot, nullptr);
  if (u->profile) [[unlikely]]
    profile_destroy(u->profile);
}

bool join_commit(void* arg, Ult* self) noexcept {
  Ult* target = static_cast<Ult*>(arg);
  Ult* expected = nullptr;
  // Fails only when the target finished meanwhile (waiter == kDoneMark).
  return target->waiter.compare_exchange_strong(expected, self, std::memory_order_acq_rel,
                                                std::memory_order_acquire);
}

bool sleep_commit(void* arg, Ult* self) noexcept {
  current_worker()->add_timer(*static_cast<const std::int64_t*>(arg), self);
  return true;
}

bool on_ult(Worker* w) noexcept { return w && w->current != &w->self; }

// A stack that is not from the calling worker's cache: from the depot, or a
// mapping of its own (bound to a NUMA node, or huge pages).
StackMem take_stack(const RuntimeCore& core, std::size_t size, const PlacementPlan* plan) {
  if (!plan || !plan->dedicated()) return StackPool::instance().allocate(size, core.cfg.stack_guard);
  StackMem s = map_dedicated_stack(size, core.cfg.stack_guard, plan->huge, kHugePageSize);
  if (plan->bind_node >= 0) {
    try {
      bind_stack(core, s, static_cast<unsigned>(plan->bind_node));
    } catch (...) {
      unmap_dedicated_stack(s);
      throw;
    }
  }
  return s;
}

}  // namespace

std::uint64_t reserve_ult_ids(std::uint64_t count) noexcept {
  return g_next_id.fetch_add(count, std::memory_order_relaxed);
}

void wake(Ult* u) noexcept { wake_from(current_worker(), u); }

void wake_from(Worker* w, Ult* u) noexcept {
  if (u->rt->trace) [[unlikely]]
    trace_wake(w, u);
  if (u->allowed) [[unlikely]] {
    if (w && w->rt == u->rt && may_run_on(u, *w))
      w->make_runnable_hot(u);
    else
      wake_placed(u);
    return;
  }
  if (w && w->rt == u->rt)
    w->make_runnable_hot(u);
  else
    u->rt->sched->push_remote(u, u->worker);
}

void ult_main(void* arg) noexcept {
  Ult* u = static_cast<Ult*>(arg);
  asan_finish_switch(nullptr);
  Worker* first = current_worker();
  first->run_after();
  if (first->trace) [[unlikely]]
    trace_first_run(*first, u);
  if (u->place & kPlaceBind) [[unlikely]]
    bind_to_worker(u);  // MigrationPolicy::Prohibited: this worker from now on

  leave_no_preempt(u);  // from here on the application's code runs
  u->task->run(u->task);
  if (u->locals) destroy_ult_locals(u->locals);  // application destructors, preemptible
  enter_no_preempt(u);

  u->done.store(1, std::memory_order_release);
  Ult* joiner = u->waiter.exchange(kDoneMark, std::memory_order_acq_rel);
  if (joiner == kKernelWaiter) futex_wake(u->done);
  Worker* w = current_worker();
  u->rt->ult_finished(*w);
  if (joiner && joiner != kKernelWaiter) {
    // Hand the worker straight to the joiner (no queue round trip), unless
    // it belongs elsewhere or ULTs of a higher priority wait here.
    if (w->rt == joiner->rt && (!w->rr_local || joiner->priority >= w->rq.top_priority()) &&
        may_run_on(joiner, *w)) {
      if (w->trace) [[unlikely]]
        trace_wake(w, joiner);
      w->exit_current(joiner);
    }
    wake_from(w, joiner);
  }
  w->exit_current();
}

Ult* ult_create(Runtime* rt, const SpawnAttrs& attrs, std::size_t size, std::size_t align,
                void** task_mem) {
  RuntimeSection section;
  Worker* w = section.worker();
  RuntimeCore* core = rt ? core_of(*rt) : (on_ult(w) ? w->rt : nullptr);
  if (!core) {
    throw UsageError(
        "quanta: spawn without a Runtime was called from a kernel thread; expected a call from "
        "a ULT, or pass the runtime: ThreadBuilder().spawn(rt, fn)");
  }
  if (attrs.priority < kMinPriority || attrs.priority > kMaxPriority) {
    throw ConfigError("quanta: priority " + std::to_string(attrs.priority) +
                      " is outside the accepted range [" + std::to_string(kMinPriority) + ", " +
                      std::to_string(kMaxPriority) + "]");
  }
  std::size_t stack_size = core->cfg.stack_size;  // validated and page-rounded already
  if (attrs.stack_size) {
    if (attrs.stack_size < kMinStackSize || attrs.stack_size > kMaxStackSize) {
      throw ConfigError("quanta: stack_size " + std::to_string(attrs.stack_size) +
                        " bytes is outside the accepted range [" +
                        std::to_string(kMinStackSize) + ", " + std::to_string(kMaxStackSize) +
                        "]");
    }
    stack_size = round_to_pages(attrs.stack_size);
  }

  // Placement options: checked before any stack is taken. The plan is large
  // and left uninitialised unless there are options.
  PlacementPlan plan_storage;
  PlacementPlan* plan = nullptr;
  std::size_t mask_bytes = 0;
  if (attrs.placement) [[unlikely]] {
    plan = &plan_storage;
    plan_placement(*core, *attrs.placement, stack_size, *plan);
    mask_bytes = plan->mask_bytes(*core);
  }

  const bool local = w && w->rt == core && w->stacks.stack_size() == stack_size &&
                     !(plan && plan->dedicated());
  StackMem s = local ? w->stacks.get() : take_stack(*core, stack_size, plan);
  asan_unpoison(s.base, s.size);

  // Top of the stack: control block, then task, then name, then the
  // placement bitmaps (placed ULTs only); the context below.
  const auto top = reinterpret_cast<std::uintptr_t>(s.top());
  const std::uintptr_t ult_at = (top - sizeof(Ult)) & ~std::uintptr_t{63};
  const std::uintptr_t task_align = std::max<std::size_t>(align, 16);
  const std::uintptr_t task_at = (ult_at - size) & ~(task_align - 1);
  const std::size_t name_bytes = attrs.name ? attrs.name_len + 1 : 0;
  const std::uintptr_t name_at = task_at - name_bytes;
  const std::uintptr_t masks_at = (name_at - mask_bytes) & ~std::uintptr_t{7};
  const std::uintptr_t ctx_top = masks_at & ~std::uintptr_t{15};
  if (size > s.size || name_bytes > s.size ||
      ctx_top < reinterpret_cast<std::uintptr_t>(s.base) + kMinUsableStack) {
    free_stack(s, w);
    throw ConfigError("quanta: the ULT's function object (" + std::to_string(size) +
                      " bytes) and name (" + std::to_string(name_bytes) + " bytes) leave less than " +
                      std::to_string(kMinUsableStack) + " bytes of its " + std::to_string(s.size) +
                      "-byte stack; expected a larger stack_size");
  }

  // Default-initialised: every member has an initialiser. (`Ult()` would
  // zero the whole block first, a rep stos that cost ~8% of a spawn.)
  Ult* u = ::new (reinterpret_cast<void*>(ult_at)) Ult;
  u->rt = core;
  u->priority = attrs.priority;
  u->stack = s;
  if (attrs.name) {
    char* name = reinterpret_cast<char*>(name_at);
    std::memcpy(name, attrs.name, attrs.name_len);
    name[attrs.name_len] = '\0';
    u->name = name;
  }
  if (plan) [[unlikely]]
    apply_placement(u, *plan, *core, reinterpret_cast<void*>(masks_at));
  if (!s.guarded) {
    auto* canary = reinterpret_cast<std::uint64_t*>(s.base);
    *canary = kStackCanary;
    u->canary = canary;
  }
  if (local) {
    if (w->next_id == w->id_limit) {
      w->next_id = reserve_ult_ids(kIdBlock);
      w->id_limit = w->next_id + kIdBlock;
    }
    u->id = w->next_id++;
  } else {
    u->id = reserve_ult_ids(1);
  }
  if (core->cfg.thread_metrics || attrs.profiling) [[unlikely]]
    observe_from_spawn(u, attrs.profiling);
  u->sp = quanta_ctx_make(reinterpret_cast<void*>(ctx_top), &ult_main, u);
  *task_mem = reinterpret_cast<void*>(task_at);
  StackDirectory::instance().publish(s.slot, u);  // findable by id from here
  return u;
}

void ult_abandon(Ult* u) noexcept {
  RuntimeSection section;
  Worker* w = section.worker();
  StackMem s = u->stack;
  forget_ult(u);
  u->~Ult();
  free_stack(s, w);
}

void ult_start(Ult* u, TaskBase* task) noexcept {
  u->task = task;
  RuntimeSection section;
  Worker* w = section.worker();
  if (u->place & kPlaceSpawn) [[unlikely]] {
    if (w && w->rt == u->rt) {
      w->spawned.store(w->spawned.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      if (w->trace) [[unlikely]]
        trace_spawn(*w, u);
    } else {
      u->rt->external_spawned.fetch_add(1, std::memory_order_relaxed);
    }
    start_placed(u, w);
  } else if (w && w->rt == u->rt) {
    w->spawned.store(w->spawned.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (w->trace) [[unlikely]]
      trace_spawn(*w, u);
    w->make_runnable_hot(u);
  } else {
    u->rt->external_spawned.fetch_add(1, std::memory_order_relaxed);
    u->rt->sched->push_remote(u, nullptr);
  }
}

void ult_join(Ult* u) {
  if (u->done.load(std::memory_order_acquire)) return;
  RuntimeSection section;
  Worker* w = section.worker();
  if (!on_ult(w)) {
    Ult* expected = nullptr;
    if (u->waiter.compare_exchange_strong(expected, kKernelWaiter, std::memory_order_acq_rel)) {
      while (u->done.load(std::memory_order_acquire) == 0) futex_wait(u->done, 0);
    }
    while (u->done.load(std::memory_order_acquire) == 0) {
      // Finished between the two checks: done is stored before waiter.
    }
    return;
  }
  if (w->current == u) {
    throw UsageError("quanta: ULT " + std::to_string(u->id) +
                     " tried to join itself; expected a handle of another ULT");
  }
  w->park_current(&join_commit, u);
  // Woken by the finisher, or the commit saw it done: either way, finished.
  while (u->done.load(std::memory_order_acquire) == 0) {
  }
}

void ult_release(Ult* u) noexcept {
  RuntimeSection section;
  ult_release_on(u, section.worker(), true);
}

void ult_release_on(Ult* u, Worker* w, bool w_known) noexcept {
  // Holding the last reference needs no read-modify-write: nobody else can
  // drop one any more.
  if (u->refs.load(std::memory_order_acquire) != 1 &&
      u->refs.fetch_sub(1, std::memory_order_acq_rel) != 1)
    return;
  if (TaskBase* t = u->task) {
    if (!t->joined && t->error) report_detached_error(u);
    t->destroy(t);
  }
  StackMem s = u->stack;
  forget_ult(u);
  u->~Ult();
  free_stack(s, w_known ? w : current_worker());
}

std::uint64_t ult_id(const Ult* u) noexcept { return u->id; }

void sleep_until_ns(std::int64_t deadline_ns) {
  RuntimeSection section;
  Worker* w = section.worker();
  if (!on_ult(w)) {
    std::this_thread::sleep_until(std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::nanoseconds(deadline_ns))));
    return;
  }
  // A sleep in a read section is a misuse even when its deadline has passed
  // by now (it would have parked a moment earlier).
  Ult* cur = w->current;
  if (cur->rcu_read_depth != 0) [[unlikely]]
    rcu_switch_in_read_section(cur, "park (sleep, join or wait)");
  if (deadline_ns <= now_ns()) return;
  w->park_current(&sleep_commit, &deadline_ns);
}

}  // namespace quanta::detail

namespace quanta::this_thread {

void yield() noexcept {
  using namespace quanta::detail;
  RuntimeSection section;
  Ult* cur = section.ult();
  if (!cur) {
    ::sched_yield();
    return;
  }
  if (cur->rcu_read_depth != 0) [[unlikely]]
    rcu_switch_in_read_section(cur, "yield");
  Worker* w = section.worker();
  Ult* next = w->pick(cur->priority);
  if (!next) return;
  w->yields.store(w->yields.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  w->after = After::Requeue;
  w->after_ult = cur;
  w->switch_to(next);
}

std::uint64_t id() noexcept {
  const detail::Ult* u = detail::current_ult();
  return u ? u->id : 0;
}

}  // namespace quanta::this_thread
