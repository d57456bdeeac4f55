// quanta — the public metrics: switch latency and the state of the workers.
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "core/runtime_core.hpp"
#include "metrics/histogram.hpp"
#include "metrics/registry.hpp"
#include "pool/pool_class.hpp"
#include "quanta/metrics.hpp"
#include "quanta/runtime.hpp"
#include "stack/stack.hpp"

namespace quanta {
namespace {

using detail::LatencyHistogram;
using detail::RuntimeCore;

// Adds rt's switch counts and latency samples to the totals.
void gather_switches(const RuntimeCore& rt, std::uint64_t& switches,
                     LatencyHistogram::Snapshot& h) {
  for (const auto& w : rt.workers) {
    switches += w->switches.load(std::memory_order_relaxed);
    h.merge(w->switch_latency.snapshot());
  }
}

ContextSwitchStats make_stats(std::uint64_t switches, const LatencyHistogram::Snapshot& h,
                              double target_ns) {
  ContextSwitchStats st;
  st.switches = switches;
  st.samples = h.count;
  st.target_ns = target_ns;
  if (h.count > 0) {
    const double rate = detail::ticks_per_ns();
    st.average_switch_time_ns = h.mean() / rate;
    st.p50_ns = h.percentile(0.50) / rate;
    st.p99_ns = h.percentile(0.99) / rate;
    st.tick_ns = 1.0 / rate;
    st.meets_target = st.p50_ns <= target_ns;
  }
  return st;
}

double target_of(const RuntimeCore& rt) {
  return static_cast<double>(rt.cfg.switch_target.count());
}

void gather_workers(const RuntimeCore& rt, SystemMetrics& m) {
  for (const auto& wp : rt.workers) {
    const detail::Worker& w = *wp;
    WorkerMetrics wm;
    wm.index = w.index;
    wm.cpu = w.cpu;
    wm.switches = w.switches.load(std::memory_order_relaxed);
    wm.yields = w.yields.load(std::memory_order_relaxed);
    wm.preemptions = w.preempt_taken.load(std::memory_order_relaxed);
    wm.steals = w.steals.load(std::memory_order_relaxed);
    wm.parks = w.parks.load(std::memory_order_relaxed);
    wm.spawns = w.spawned.load(std::memory_order_relaxed);
    wm.finished = w.finished.load(std::memory_order_relaxed);
    wm.run_queue = rt.sched->queued(w);
    wm.busy = w.in_ult.load(std::memory_order_relaxed) != 0;
    wm.parked = w.parked.load(std::memory_order_relaxed) == 1;
    m.total_switches += wm.switches;
    m.runnable += wm.run_queue;
    if (wm.busy)
      ++m.workers_busy;
    else
      ++m.workers_idle;
    m.workers.push_back(wm);
  }
  const std::size_t shared = rt.sched->shared_queued();
  m.shared_queue += shared;
  m.runnable += shared;
  m.live_ults += rt.live_ults();
}

void gather_memory(SystemMetrics& m) {
  const detail::StackPoolStats st = detail::StackPool::instance().stats();
  m.stack_bytes = st.mapped_bytes;
  m.stack_bytes_released = st.cold_bytes;
  m.pool_bytes_reserved = detail::pool_reserved_bytes.load(std::memory_order_relaxed);
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    unsigned long size = 0, resident = 0;
    if (std::fscanf(f, "%lu %lu", &size, &resident) == 2)
      m.rss_bytes = resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    std::fclose(f);
  }
}

}  // namespace

ContextSwitchStats context_switch_stats(const Runtime& rt) {
  const RuntimeCore& core = const_cast<Runtime&>(rt).impl();
  std::uint64_t switches = 0;
  LatencyHistogram::Snapshot h;
  gather_switches(core, switches, h);
  return make_stats(switches, h, target_of(core));
}

ContextSwitchStats context_switch_stats() {
  std::uint64_t switches = 0;
  LatencyHistogram::Snapshot h;
  double target = 0;
  bool any = false;
  detail::for_each_runtime([&](RuntimeCore* rt) {
    gather_switches(*rt, switches, h);
    target = any ? std::min(target, target_of(*rt)) : target_of(*rt);
    any = true;
  });
  return make_stats(switches, h, target);
}

SystemMetrics SystemMetrics::current() {
  SystemMetrics m;
  std::uint64_t switches = 0;
  LatencyHistogram::Snapshot h;
  detail::for_each_runtime([&](RuntimeCore* rt) {
    gather_workers(*rt, m);
    gather_switches(*rt, switches, h);
  });
  if (h.count > 0) m.average_switch_time_ns = h.mean() / detail::ticks_per_ns();
  gather_memory(m);
  return m;
}

SystemMetrics SystemMetrics::of(const Runtime& rt) {
  const RuntimeCore& core = const_cast<Runtime&>(rt).impl();
  SystemMetrics m;
  gather_workers(core, m);
  std::uint64_t switches = 0;
  LatencyHistogram::Snapshot h;
  gather_switches(core, switches, h);
  if (h.count > 0) m.average_switch_time_ns = h.mean() / detail::ticks_per_ns();
  gather_memory(m);
  return m;
}

}  // namespace quanta
