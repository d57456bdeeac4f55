// quanta — HealthMonitor (include/quanta/health.hpp): a sampling thread like
// the schedtrace one (a futex wait on a stop word until an absolute
// deadline), and the checks it makes.
//
// What each check compares:
//   switch time  the p99 of the latency samples the workers' histograms
//                gained since the last evaluation, once 16 new ones exist;
//   memory       SystemMetrics::rss_bytes (skipped while it reads 0);
//   CPU          the CPU time of the worker threads (their CLOCK_THREAD_CPUTIME
//                clocks) since the last check / (wall time x workers);
//   run queue    SystemMetrics::runnable;
//   starvation   per worker: its queues were non-empty at an earlier check
//                and still are, and its switch counter has not moved since
//                then, for more than N time slices. No switch means the
//                worker has not taken anything from its queues, so the ULTs
//                queued at that check have waited at least that long (unless
//                another worker took them meanwhile: work stealing, or a
//                round-robin hand-over, both of which need that other worker
//                to be idle). The shared queues (work stealing) count as
//                starving when they stayed non-empty and no worker switched.
//                It detects a worker held by one ULT (no preemption, or a
//                ULT that never leaves a NoPreempt scope) and a parked
//                worker with work it was not woken for; it does not see a
//                ULT overtaken again and again on a worker that keeps
//                switching (the schedulers are FIFO within a priority).
#include "quanta/health.hpp"

#include <time.h>

#include <algorithm>
#include <array>
#include <cstdarg>
#include <cmath>
#include <cstdio>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>

#include "core/clock.hpp"
#include "core/futex.hpp"
#include "core/no_preempt.hpp"
#include "core/runtime_core.hpp"
#include "metrics/histogram.hpp"
#include "metrics/registry.hpp"
#include "quanta/error.hpp"
#include "quanta/runtime.hpp"

namespace quanta {
namespace {

using detail::LatencyHistogram;
using detail::RuntimeCore;

constexpr std::size_t kIssues = 5;
// Switch-latency samples a p99 is computed from, at least.
constexpr std::uint64_t kMinSwitchSamples = 16;
// The stderr warning of an issue is printed at most this often.
constexpr std::int64_t kWarnEveryNs = 1'000'000'000;
constexpr std::uint64_t kMaxStarvingSlices = 1'000'000;

std::string range(unsigned long long lo, unsigned long long hi) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "[%llu, %llu]", lo, hi);
  return buf;
}

void validate(const HealthThresholds& t, std::chrono::milliseconds interval) {
  const auto lo = static_cast<unsigned long long>(HealthMonitor::kMinInterval.count());
  const auto hi = static_cast<unsigned long long>(HealthMonitor::kMaxInterval.count());
  if (interval < HealthMonitor::kMinInterval || interval > HealthMonitor::kMaxInterval)
    throw ConfigError("quanta: HealthMonitor interval = " + std::to_string(interval.count()) +
                      " ms is outside the accepted range " + range(lo, hi) + " ms");
  if (t.max_switch_time &&
      (t.max_switch_time->count() < 1 || t.max_switch_time->count() > 1'000'000'000))
    throw ConfigError("quanta: HealthThresholds::max_switch_time = " +
                      std::to_string(t.max_switch_time->count()) +
                      " ns is outside the accepted range " + range(1, 1'000'000'000) + " ns");
  if (t.max_rss_bytes && *t.max_rss_bytes == 0)
    throw ConfigError(
        "quanta: HealthThresholds::max_rss_bytes = 0 is outside the accepted range [1, " +
        std::to_string(SIZE_MAX) + "] bytes");
  if (t.max_cpu_share && !(*t.max_cpu_share > 0.0 && *t.max_cpu_share <= 1.0)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", *t.max_cpu_share);
    throw ConfigError(std::string("quanta: HealthThresholds::max_cpu_share = ") + buf +
                      " is outside the accepted range (0, 1] (a share of the workers' time)");
  }
  if (t.max_run_queue && *t.max_run_queue == 0)
    throw ConfigError(
        "quanta: HealthThresholds::max_run_queue = 0 is outside the accepted range [1, " +
        std::to_string(SIZE_MAX) + "] ULTs");
  if (t.starving_slices && (*t.starving_slices < 1 || *t.starving_slices > kMaxStarvingSlices))
    throw ConfigError("quanta: HealthThresholds::starving_slices = " +
                      std::to_string(*t.starving_slices) + " is outside the accepted range " +
                      range(1, kMaxStarvingSlices) + " time slices");
}

LatencyHistogram::Snapshot switch_histogram(const RuntimeCore& rt) {
  LatencyHistogram::Snapshot h;
  for (const auto& w : rt.workers) h.merge(w->switch_latency.snapshot());
  return h;
}

// The worker thread's CPU time in ns, or -1 while it is not known.
std::int64_t worker_cpu_ns(const detail::Worker& w) {
  if (!w.cpu_clock_ready.load(std::memory_order_acquire)) return -1;
  timespec ts{};
  if (::clock_gettime(w.cpu_clock, &ts) != 0) return -1;
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

}  // namespace

const char* health_issue_name(HealthIssue issue) noexcept {
  switch (issue) {
    case HealthIssue::SwitchTime: return "switch time";
    case HealthIssue::Memory: return "memory";
    case HealthIssue::Cpu: return "CPU";
    case HealthIssue::RunQueue: return "run queue";
    case HealthIssue::Starvation: return "starvation";
  }
  return "unknown";
}

struct HealthMonitor::State {
  RuntimeCore* rt = nullptr;
  HealthThresholds th;
  std::chrono::milliseconds interval{};
  std::int64_t slice_ns = 0;

  // What the interval-based checks compare with; under eval_mu.
  struct Stall {
    bool queued = false;          // ULTs were queued at the check that started it
    std::uint64_t switches = 0;   // the switch count then
    std::int64_t since_ns = 0;    // that check's time
  };
  std::mutex eval_mu;
  LatencyHistogram::Snapshot switch_base;
  std::int64_t cpu_wall_ns = 0;
  std::vector<std::int64_t> cpu_base;  // per worker, -1: unknown
  std::vector<Stall> stalls;           // per worker, then one for the shared queues

  std::mutex cb_mu;  // callback and last_warn
  std::shared_ptr<const Callback> callback;
  std::array<std::int64_t, kIssues> last_warn{};
  std::array<bool, kIssues> warned{};

  std::atomic<std::uint64_t> samples{0};
  std::atomic<std::uint64_t> events{0};
  std::atomic<std::uint32_t> stop{0};  // futex word
  std::thread thread;

  std::vector<HealthEvent> evaluate();
  void deliver(const std::vector<HealthEvent>& evs);
  void run();
};

std::vector<HealthEvent> HealthMonitor::State::evaluate() {
  RuntimeCore& core = *rt;
  const SystemMetrics m = SystemMetrics::of(*core.owner);
  const std::int64_t now = detail::now_ns();
  std::vector<HealthEvent> out;
  auto add = [&](HealthIssue issue, double value, double threshold, std::string message) {
    HealthEvent ev;
    ev.issue = issue;
    ev.value = value;
    ev.threshold = threshold;
    ev.message = "quanta: health: " + std::string(health_issue_name(issue)) + ": " + message;
    ev.metrics = m;
    out.push_back(std::move(ev));
  };

  if (th.max_switch_time) {
    const LatencyHistogram::Snapshot cur = switch_histogram(core);
    LatencyHistogram::Snapshot delta;
    for (unsigned b = 0; b < LatencyHistogram::kBuckets; ++b) {
      const std::uint64_t c = cur.counts[b], was = switch_base.counts[b];
      delta.counts[b] = c > was ? c - was : 0;
      delta.count += delta.counts[b];
    }
    if (delta.count >= kMinSwitchSamples) {
      switch_base = cur;
      const double p99 = delta.percentile(0.99) / detail::ticks_per_ns();
      const double limit = static_cast<double>(th.max_switch_time->count());
      if (p99 > limit)
        add(HealthIssue::SwitchTime, p99, limit,
            format("p99 %.0f ns over the last %llu sampled switches exceeds the threshold %.0f ns",
                   p99, static_cast<unsigned long long>(delta.count), limit));
    }
  }

  if (th.max_rss_bytes && m.rss_bytes > *th.max_rss_bytes)
    add(HealthIssue::Memory, static_cast<double>(m.rss_bytes),
        static_cast<double>(*th.max_rss_bytes),
        format("resident set %zu bytes exceeds the threshold %zu bytes (stacks %zu bytes, "
               "pools %zu bytes reserved)",
               m.rss_bytes, *th.max_rss_bytes, m.stack_bytes, m.pool_bytes_reserved));

  if (th.max_cpu_share) {
    const std::int64_t wall = now - cpu_wall_ns;
    const std::size_t n = core.workers.size();
    std::vector<std::int64_t> cpu(n);
    for (std::size_t i = 0; i < n; ++i) cpu[i] = worker_cpu_ns(*core.workers[i]);
    if (wall > 0) {
      double used = 0;
      std::string per;
      for (std::size_t i = 0; i < n; ++i) {
        double share = 0;
        if (cpu[i] >= 0 && cpu_base[i] >= 0 && cpu[i] > cpu_base[i])
          share = static_cast<double>(cpu[i] - cpu_base[i]) / static_cast<double>(wall);
        used += share;
        if (i < 8) per += format("%sworker %zu: %.0f%%", i ? ", " : "", i, share * 100);
      }
      if (n > 8) per += ", ...";
      const double total = used / static_cast<double>(n);
      if (total > *th.max_cpu_share)
        add(HealthIssue::Cpu, total, *th.max_cpu_share,
            format("the workers used %.0f%% of %zu CPUs over the last %.0f ms, above the "
                   "threshold %.0f%% (",
                   total * 100, n, static_cast<double>(wall) / 1e6, *th.max_cpu_share * 100) +
                per + ")");
    }
    cpu_base = std::move(cpu);
    cpu_wall_ns = now;
  }

  if (th.max_run_queue && m.runnable > *th.max_run_queue) {
    std::string per;
    for (std::size_t i = 0; i < m.workers.size() && i < 8; ++i)
      per += format("worker %zu: %zu, ", i, m.workers[i].run_queue);
    if (m.workers.size() > 8) per += "..., ";
    add(HealthIssue::RunQueue, static_cast<double>(m.runnable),
        static_cast<double>(*th.max_run_queue),
        format("%zu ULTs waiting exceed the threshold %zu (", m.runnable, *th.max_run_queue) +
            per + format("shared: %zu)", m.shared_queue));
  }

  if (th.starving_slices) {
    const std::int64_t limit = static_cast<std::int64_t>(*th.starving_slices) * slice_ns;
    const std::size_t n = m.workers.size();
    // A stall starts at a check that sees ULTs queued; it lasts while every
    // later check sees ULTs queued and the same switch count.
    auto track = [&](Stall& s, std::size_t queued, std::uint64_t switches) -> std::int64_t {
      if (queued == 0) {
        s.queued = false;
        return 0;
      }
      if (!s.queued || s.switches != switches) {
        s = Stall{true, switches, now};
        return 0;
      }
      return now - s.since_ns;
    };
    std::int64_t worst = 0;
    std::string who;
    unsigned starving = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const WorkerMetrics& w = m.workers[i];
      const std::int64_t waited = track(stalls[i], w.run_queue, w.switches);
      if (waited > limit) {
        if (starving++ < 8)
          who += format("%sworker %zu (%zu queued, %s)", who.empty() ? "" : ", ", i,
                        w.run_queue, w.busy ? "running one ULT" : "not running any");
        worst = std::max(worst, waited);
      }
    }
    const std::int64_t shared_waited = track(stalls[n], m.shared_queue, m.total_switches);
    if (shared_waited > limit) {
      who += format("%sthe shared queues (%zu queued)", who.empty() ? "" : ", ", m.shared_queue);
      worst = std::max(worst, shared_waited);
    }
    if (!who.empty()) {
      const double slices = static_cast<double>(worst) / static_cast<double>(slice_ns);
      add(HealthIssue::Starvation, slices, static_cast<double>(*th.starving_slices),
          format("runnable ULTs have waited %.1f time slices (%.1f ms) without a switch, more "
                 "than the threshold %u: ",
                 slices, static_cast<double>(worst) / 1e6, *th.starving_slices) +
              who);
    }
  }
  return out;
}

void HealthMonitor::State::deliver(const std::vector<HealthEvent>& evs) {
  for (const HealthEvent& ev : evs) {
    std::shared_ptr<const Callback> cb;
    {
      detail::RuntimeSection section;  // on a ULT: not preempted holding cb_mu
      std::lock_guard lk(cb_mu);
      cb = callback;
      if (!cb) {
        const auto i = static_cast<std::size_t>(ev.issue);
        const std::int64_t now = detail::now_ns();
        if (!warned[i] || now - last_warn[i] >= kWarnEveryNs) {
          warned[i] = true;
          last_warn[i] = now;
          std::fprintf(stderr, "%s\n", ev.message.c_str());
        }
      }
    }
    if (cb) (*cb)(ev);
    events.fetch_add(1, std::memory_order_relaxed);
  }
}

void HealthMonitor::State::run() {
  const std::int64_t period = std::chrono::nanoseconds(interval).count();
  std::int64_t deadline = detail::now_ns() + period;
  while (stop.load(std::memory_order_acquire) == 0) {
    detail::futex_wait_until(stop, 0, deadline);
    if (stop.load(std::memory_order_acquire) != 0) break;
    const std::int64_t now = detail::now_ns();
    if (now < deadline) continue;
    std::vector<HealthEvent> evs;
    {
      std::lock_guard lk(eval_mu);
      evs = evaluate();
      samples.fetch_add(1, std::memory_order_relaxed);
    }
    try {
      deliver(evs);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "quanta: health: the on_issue callback threw: %s\n", e.what());
    } catch (...) {
      std::fputs("quanta: health: the on_issue callback threw\n", stderr);
    }
    deadline += period;
    if (deadline <= now) deadline = now + period;
  }
}

HealthMonitor::HealthMonitor(const Runtime& rt, const HealthThresholds& thresholds,
                             std::chrono::milliseconds interval)
    : HealthMonitor(rt, thresholds, interval, Callback{}) {}

HealthMonitor::HealthMonitor(const Runtime& rt, const HealthThresholds& thresholds,
                             std::chrono::milliseconds interval, Callback on_issue)
    : s_(std::make_unique<State>()) {
  validate(thresholds, interval);
  State& s = *s_;
  s.rt = &const_cast<Runtime&>(rt).impl();
  s.th = thresholds;
  s.interval = interval;
  s.slice_ns = std::chrono::nanoseconds(s.rt->cfg.time_slice).count();
  if (on_issue) s.callback = std::make_shared<const Callback>(std::move(on_issue));
  s.switch_base = switch_histogram(*s.rt);
  s.cpu_wall_ns = detail::now_ns();
  for (const auto& w : s.rt->workers) s.cpu_base.push_back(worker_cpu_ns(*w));
  s.stalls.resize(s.rt->workers.size() + 1);
  s.rt->health_monitors.fetch_add(1, std::memory_order_relaxed);
  try {
    s.thread = std::thread([&s] { s.run(); });
  } catch (const std::system_error& e) {
    s.rt->health_monitors.fetch_sub(1, std::memory_order_relaxed);
    throw ResourceError(std::string("quanta: cannot start the HealthMonitor thread: ") +
                        e.what());
  }
}

HealthMonitor::~HealthMonitor() {
  s_->stop.store(1, std::memory_order_seq_cst);
  detail::futex_wake(s_->stop);
  s_->thread.join();
  s_->rt->health_monitors.fetch_sub(1, std::memory_order_release);
}

void HealthMonitor::on_issue(Callback cb) {
  std::shared_ptr<const Callback> p;
  if (cb) p = std::make_shared<const Callback>(std::move(cb));
  detail::RuntimeSection section;
  std::lock_guard lk(s_->cb_mu);
  s_->callback = std::move(p);
}

std::vector<HealthEvent> HealthMonitor::check() {
  std::vector<HealthEvent> evs;
  {
    // On a ULT: not preempted while it holds the lock, which the monitor
    // thread (or another ULT of the same worker) may be waiting for.
    detail::RuntimeSection section;
    std::lock_guard lk(s_->eval_mu);
    evs = s_->evaluate();
    s_->samples.fetch_add(1, std::memory_order_relaxed);
  }
  s_->deliver(evs);
  return evs;
}

std::uint64_t HealthMonitor::samples() const noexcept {
  return s_->samples.load(std::memory_order_relaxed);
}

std::uint64_t HealthMonitor::events() const noexcept {
  return s_->events.load(std::memory_order_relaxed);
}

const HealthThresholds& HealthMonitor::thresholds() const noexcept { return s_->th; }

std::chrono::milliseconds HealthMonitor::interval() const noexcept { return s_->interval; }

}  // namespace quanta
