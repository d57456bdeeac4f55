// quanta — what a Runtime is made of, shared by the runtime's internals.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "core/worker.hpp"
#include "metrics/schedtrace.hpp"
#include "preempt/monitor.hpp"
#include "quanta/config.hpp"
#include "quanta/runtime.hpp"
#include "quanta/topology.hpp"
#include "sched/scheduler.hpp"
#include "trace/session.hpp"

namespace quanta::detail {

struct RuntimeCore {
  Runtime* owner = nullptr;
  Config cfg;
  std::vector<std::unique_ptr<Worker>> workers;
  std::unique_ptr<Scheduler> sched;

  // Live ULTs are counted without a shared atomic on the hot path: each
  // worker counts the ULTs spawned on it and the ULTs that finished on it
  // (owner-only counters), kernel threads count into `external_spawned`.
  // live = external + sum(spawned) - sum(finished); see live_ults().
  std::atomic<std::uint64_t> external_spawned{0};
  std::atomic<std::uint32_t> draining{0};  // ~Runtime is waiting for live == 0
  std::atomic<std::uint32_t> drained{0};   // futex word ~Runtime waits on
  std::atomic<bool> counters_open{false};  // workers' perf events (thread_profile.hpp)
  std::atomic<bool> stopping{false};       // workers may exit once idle
  std::unique_ptr<PreemptMonitor> monitor;  // when cfg.preempt
  std::unique_ptr<SchedTrace> schedtrace;   // when cfg.schedtrace > 0
  // When cfg.trace_file is set; each worker's `trace` is its ring. Null
  // otherwise, which is what the wake hook tests (trace/hooks.hpp).
  std::unique_ptr<TraceSession> trace;
  // HealthMonitors watching this runtime; ~Runtime aborts unless 0, since
  // their threads read the workers.
  std::atomic<unsigned> health_monitors{0};
  // Tests: a preempted ULT resumes on the next worker instead of its own.
  std::atomic<bool> preempt_migrate_for_testing{false};

  // Placement (core/worker_cpus.hpp, core/placement.hpp); constant once the
  // workers run, except the round-robin counter.
  std::optional<Topology> topo;  // empty when the machine could not be read
  bool topo_is_machine = true;   // workers pinned, stacks may be bound to nodes
  unsigned mask_words = 1;       // 64-bit words in a bitmap of the workers
  // Per node of topo (ascending, as Topology::nodes()): the node's OS index
  // and the bitmap of the workers on it; one node 0 holding every worker
  // when there is no topology.
  std::vector<unsigned> node_ids;
  std::vector<std::vector<std::uint64_t>> node_workers;
  std::atomic<unsigned> place_next{0};  // deals placed spawns to the workers of a mask

  // A worker left its futex sleep.
  void worker_unparked() noexcept {
    if (monitor) monitor->worker_unparked();
  }

  // ULTs started and not finished. Exact when it returns 0: every counter is
  // monotonic, the finished counters are read first (each finish is a
  // release store made after its ULT's spawn was counted), so
  // sum(finished) as read <= finished(t) <= spawned(t) <= sum(spawned) as
  // read, and equality means none was live at time t.
  std::uint64_t live_ults() const noexcept;

  // A ULT of this runtime finished its task on worker w.
  void ult_finished(Worker& w) noexcept {
    w.finished.store(w.finished.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    // The destroyer also polls, so a draining flag seen late costs it at
    // most one poll interval, never a hang.
    if (draining.load(std::memory_order_relaxed)) futex_wake_drained();
  }
  void futex_wake_drained() noexcept;
};

}  // namespace quanta::detail

namespace quanta {
struct Runtime::Impl : detail::RuntimeCore {};
}  // namespace quanta

namespace quanta::detail {

// Process-wide ULT ids; workers reserve them in blocks.
std::uint64_t reserve_ult_ids(std::uint64_t count) noexcept;

}  // namespace quanta::detail
