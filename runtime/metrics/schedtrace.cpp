// quanta — the schedtrace thread (see schedtrace.hpp).
#include "metrics/schedtrace.hpp"

#include <cstdio>

#include "core/clock.hpp"
#include "core/futex.hpp"
#include "core/runtime_core.hpp"

namespace quanta::detail {

SchedTotals sched_totals(const RuntimeCore& rt) {
  SchedTotals t;
  for (const auto& w : rt.workers) {
    t.switches += w->switches.load(std::memory_order_relaxed);
    t.yields += w->yields.load(std::memory_order_relaxed);
    t.preemptions += w->preempt_taken.load(std::memory_order_relaxed);
    t.steals += w->steals.load(std::memory_order_relaxed);
    t.spawns += w->spawned.load(std::memory_order_relaxed);
    t.parks += w->parks.load(std::memory_order_relaxed);
  }
  return t;
}

std::string schedtrace_line(RuntimeCore& rt, std::int64_t since_start_ns,
                            const SchedTotals& before, const SchedTotals& now,
                            std::int64_t interval_ns) {
  unsigned busy = 0, parked = 0;
  std::size_t runnable = 0;
  std::string queues = "[";
  for (std::size_t i = 0; i < rt.workers.size(); ++i) {
    const Worker& w = *rt.workers[i];
    if (w.in_ult.load(std::memory_order_relaxed)) ++busy;
    if (w.parked.load(std::memory_order_relaxed) == 1) ++parked;
    const std::size_t q = rt.sched->queued(w);
    runnable += q;
    if (i) queues += ' ';
    queues += std::to_string(q);
  }
  queues += ']';
  const std::size_t shared = rt.sched->shared_queued();
  runnable += shared;
  const double secs = interval_ns > 0 ? static_cast<double>(interval_ns) / 1e9 : 1.0;
  auto rate = [&](std::uint64_t a, std::uint64_t b) {
    return static_cast<unsigned long long>(static_cast<double>(b - a) / secs + 0.5);
  };
  const unsigned n = static_cast<unsigned>(rt.workers.size());
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "quanta-sched %lldms: workers=%u busy=%u idle=%u parked=%u runnable=%zu %s "
                "shared=%zu live=%llu switches/s=%llu yields/s=%llu preemptions/s=%llu "
                "steals/s=%llu spawns/s=%llu parks/s=%llu",
                static_cast<long long>(since_start_ns / 1'000'000), n, busy, n - busy, parked,
                runnable, queues.c_str(), shared,
                static_cast<unsigned long long>(rt.live_ults()),
                rate(before.switches, now.switches), rate(before.yields, now.yields),
                rate(before.preemptions, now.preemptions), rate(before.steals, now.steals),
                rate(before.spawns, now.spawns), rate(before.parks, now.parks));
  return buf;
}

SchedTrace::SchedTrace(RuntimeCore* rt) : rt_(rt), thread_([this] { run(); }) {}

SchedTrace::~SchedTrace() {
  stop_.store(1, std::memory_order_seq_cst);
  futex_wake(stop_);
  thread_.join();
}

void SchedTrace::run() {
  const std::int64_t period = std::chrono::nanoseconds(rt_->cfg.schedtrace).count();
  const std::int64_t start = now_ns();
  std::int64_t last = start;
  SchedTotals before = sched_totals(*rt_);
  std::int64_t deadline = start + period;
  while (stop_.load(std::memory_order_acquire) == 0) {
    futex_wait_until(stop_, 0, deadline);
    if (stop_.load(std::memory_order_acquire) != 0) break;
    const std::int64_t now = now_ns();
    if (now < deadline) continue;
    const SchedTotals totals = sched_totals(*rt_);
    const std::string line = schedtrace_line(*rt_, now - start, before, totals, now - last);
    std::fprintf(stderr, "%s\n", line.c_str());
    lines_.fetch_add(1, std::memory_order_relaxed);
    before = totals;
    last = now;
    deadline += period;
    if (deadline <= now) deadline = now + period;
  }
}

}  // namespace quanta::detail
