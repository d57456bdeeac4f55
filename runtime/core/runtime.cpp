// quanta — Runtime: starting workers, draining ULTs, stopping.
#include "quanta/runtime.hpp"

#include <pthread.h>
#include <sched.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>
#include <vector>

#include "core/clock.hpp"
#include "core/futex.hpp"
#include "core/no_preempt.hpp"
#include "core/runtime_core.hpp"
#include "metrics/registry.hpp"
#include "core/worker_cpus.hpp"
#include "quanta/error.hpp"
#include "quanta/topology.hpp"
#include "rcu/rcu_runtime.hpp"
#include "sched/round_robin.hpp"
#include "sched/work_stealing.hpp"
#include "stack/overflow.hpp"
#include "stack/stack.hpp"

namespace quanta {

namespace detail {

void RuntimeCore::futex_wake_drained() noexcept {
  // One wake per recount of the destroyer, not one per finished ULT.
  if (drained.exchange(1, std::memory_order_relaxed) == 0) futex_wake(drained);
}

std::uint64_t RuntimeCore::live_ults() const noexcept {
  std::uint64_t finished_sum = 0, spawned_sum = 0;
  for (auto& w : workers) finished_sum += w->finished.load(std::memory_order_acquire);
  for (auto& w : workers) spawned_sum += w->spawned.load(std::memory_order_acquire);
  spawned_sum += external_spawned.load(std::memory_order_acquire);
  return spawned_sum - finished_sum;
}

namespace {

// ~Runtime reports ULTs that keep it waiting this long.
constexpr std::int64_t kDrainWarnNs = 5'000'000'000;
// ~Runtime re-counts live ULTs at least this often while it waits.
constexpr std::int64_t kDrainPollNs = 2'000'000;

}  // namespace
}  // namespace detail

Runtime::Runtime() : Runtime(Config::from_env()) {}

Runtime::Runtime(const Config& cfg) : impl_(nullptr) {
  // Created from a ULT of another runtime: not preempted while it takes the
  // locks of one-time initialisation (handlers, topology).
  detail::RuntimeSection section;
  cfg.validate();
  detail::WorkerCpus place = detail::place_workers(cfg);
  // Opened before anything else is started: a trace file that cannot be
  // written stops the constructor with nothing to undo.
  std::unique_ptr<detail::TraceSession> trace;
  if (!cfg.trace_file.empty())
    trace = std::make_unique<detail::TraceSession>(cfg, static_cast<unsigned>(place.cpus.size()));
  auto* impl = new Impl();
  impl->trace = std::move(trace);
  impl->owner = this;
  impl->cfg = cfg;
  impl->cfg.stack_size = detail::round_to_pages(cfg.stack_size);
  impl->cfg.workers = static_cast<unsigned>(place.cpus.size());
  detail::install_overflow_handler();

  const unsigned n = impl->cfg.workers;
  impl->mask_words = (n + 63) / 64;
  impl->topo = place.topo;
  impl->topo_is_machine = place.machine;
  // config() reports the topology in use: the runtime's own copy.
  impl->cfg.topology = impl->topo ? &*impl->topo : nullptr;
  if (place.topo) {
    impl->node_ids = place.topo->nodes();
  } else {
    impl->node_ids = {0};
  }
  impl->node_workers.assign(impl->node_ids.size(), std::vector<std::uint64_t>(impl->mask_words, 0));
  std::vector<detail::Worker*> ptrs;
  for (unsigned i = 0; i < n; ++i) {
    impl->workers.push_back(std::make_unique<detail::Worker>(impl, i, impl->cfg.stack_size,
                                                             impl->cfg.stack_guard));
    detail::Worker* w = impl->workers.back().get();
    w->cpu = place.cpus[i];
    w->node = place.nodes[i];
    w->only_self.assign(impl->mask_words, 0);
    w->only_self[i / 64] |= std::uint64_t{1} << (i % 64);
    if (impl->trace) w->trace = impl->trace->buffer(i);
    for (std::size_t k = 0; k < impl->node_ids.size(); ++k)
      if (impl->node_ids[k] == w->node) impl->node_workers[k][i / 64] |= std::uint64_t{1} << (i % 64);
    ptrs.push_back(w);
  }
  const bool pin = place.pin;
  if (impl->cfg.scheduler == SchedulerKind::WorkStealing)
    impl->sched = std::make_unique<detail::WorkStealingScheduler>(
        ptrs, detail::victim_orders(place.cpus, place.topo ? &*place.topo : nullptr));
  else
    impl->sched = std::make_unique<detail::RoundRobinScheduler>(ptrs);
  for (auto* w : ptrs) {
    w->sched = impl->sched.get();
    w->rr_local = impl->cfg.scheduler == SchedulerKind::RoundRobin;
  }
  impl_ = impl;
  // Rcu grace periods watch this runtime's workers from now on, before any
  // of its ULTs can run.
  try {
    detail::rcu_register_runtime(impl);
  } catch (...) {
    delete impl;
    impl_ = nullptr;
    throw;
  }

  // Each worker pinned to its CPU (several share one when there are more
  // workers than CPUs); on a logical topology the kernel places them.
  unsigned started = 0;
  try {
    for (auto* w : ptrs) {
      w->thread = std::thread([w] { w->loop(); });
      if (pin) {
        cpu_set_t* set = CPU_ALLOC(static_cast<unsigned>(w->cpu) + 1);
        if (set) {
          const std::size_t size = CPU_ALLOC_SIZE(static_cast<unsigned>(w->cpu) + 1);
          CPU_ZERO_S(size, set);
          CPU_SET_S(static_cast<unsigned>(w->cpu), size, set);
          pthread_setaffinity_np(w->thread.native_handle(), size, set);
          CPU_FREE(set);
        }
      }
      ++started;
    }
  } catch (const std::system_error& e) {
    impl->stopping.store(true, std::memory_order_seq_cst);
    for (unsigned i = 0; i < started; ++i) {
      ptrs[i]->notify();
      ptrs[i]->thread.join();
    }
    detail::rcu_unregister_runtime(impl);
    delete impl;
    impl_ = nullptr;
    throw ResourceError("quanta: cannot start worker thread " + std::to_string(started) + " of " +
                        std::to_string(ptrs.size()) + ": " + e.what());
  }
  if (impl->cfg.preempt) {
    try {
      impl->monitor = std::make_unique<detail::PreemptMonitor>(impl);
    } catch (const std::system_error& e) {
      impl->stopping.store(true, std::memory_order_seq_cst);
      for (auto* w : ptrs) {
        w->notify();
        w->thread.join();
      }
      detail::rcu_unregister_runtime(impl);
      delete impl;
      impl_ = nullptr;
      throw ResourceError(std::string("quanta: cannot start the preemption monitor thread: ") +
                          e.what() + " (Config::preempt = false runs without it)");
    }
  }
  detail::register_runtime(impl);
  if (impl->cfg.schedtrace.count() > 0) {
    try {
      impl->schedtrace = std::make_unique<detail::SchedTrace>(impl);
    } catch (const std::system_error& e) {
      // Diagnostics only: the runtime runs without them.
      std::fprintf(stderr, "quanta: cannot start the schedtrace thread: %s\n", e.what());
    }
  }
}

Runtime::~Runtime() {
  if (!impl_) return;
  detail::Worker* self = detail::current_worker();
  if (self && self->rt == impl_) {
    std::fputs(
        "quanta: a Runtime is being destroyed by one of its own ULTs; it would wait for itself "
        "forever (destroy it from the thread that created it)\n",
        stderr);
    std::abort();
  }
  if (const unsigned n = impl_->health_monitors.load(std::memory_order_acquire); n != 0) {
    std::fprintf(stderr,
                 "quanta: a Runtime is being destroyed while %u HealthMonitor(s) watch it; "
                 "destroy them first\n",
                 n);
    std::abort();
  }
  // Wait for every ULT, joined or detached, to finish.
  impl_->draining.store(1, std::memory_order_seq_cst);
  const std::int64_t start = detail::now_ns();
  bool warned = false;
  for (std::uint64_t live; (live = impl_->live_ults()) != 0;) {
    if (!warned && detail::now_ns() - start > detail::kDrainWarnNs) {
      warned = true;
      std::fprintf(stderr,
                   "quanta: ~Runtime has waited 5 s for %llu ULT(s) that have not finished "
                   "(a blocked ULT keeps its runtime alive)\n",
                   static_cast<unsigned long long>(live));
    }
    impl_->drained.store(0, std::memory_order_relaxed);
    if (impl_->live_ults() == 0) break;
    detail::futex_wait(impl_->drained, 0, detail::kDrainPollNs);
  }
  impl_->schedtrace.reset();
  impl_->monitor.reset();  // no signal may reach a worker thread that is gone
  impl_->stopping.store(true, std::memory_order_seq_cst);
  for (auto& w : impl_->workers) w->notify();
  for (auto& w : impl_->workers) w->thread.join();
  if (impl_->trace) impl_->trace->finish(*impl_);  // every event is in now
  detail::rcu_unregister_runtime(impl_);
  detail::unregister_runtime(impl_);  // no metrics reader looks at it any more
  delete impl_;
}

const Config& Runtime::config() const noexcept { return impl_->cfg; }

unsigned Runtime::worker_count() const noexcept {
  return static_cast<unsigned>(impl_->workers.size());
}

Runtime* Runtime::current() noexcept {
  const detail::Ult* u = detail::current_ult();
  return u ? u->rt->owner : nullptr;
}

}  // namespace quanta
