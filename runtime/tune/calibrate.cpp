// quanta — calibrate(): this machine's switch, spawn+join, preemption and
// wake-up costs, each measured on a runtime of one worker. Short runs (about
// half a second in all): these feed a recommendation, not a benchmark
// (quanta-bench measures the same things carefully, against peers).
#include <sys/auxv.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "core/runtime_core.hpp"
#include "core/worker.hpp"
#include "quanta/error.hpp"
#include "quanta/latch.hpp"
#include "quanta/metrics.hpp"
#include "quanta/preempt.hpp"
#include "quanta/runtime.hpp"
#include "quanta/thread.hpp"
#include "quanta/tune.hpp"

#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

namespace quanta::tune {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double ns_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::nano>(b - a).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

Config one_worker(bool preempt, SchedulerKind scheduler) {
  Config c;
  c.workers = 1;
  c.preempt = preempt;
  c.scheduler = scheduler;
  return c;
}

constexpr int kRounds = 5;

// Per yield of 2 ULTs yielding to each other on 1 worker; median of rounds.
double measure_switch() {
  constexpr int kYields = 20'000;  // per ULT and round
  Runtime rt(one_worker(false, SchedulerKind::WorkStealing));
  std::vector<double> rounds;
  for (int r = 0; r < kRounds; ++r) {
    std::atomic<int> started{0}, finished{0};
    Clock::time_point t0, t1;
    auto body = [&] {
      // Both ULTs queued before the count starts; the second to arrive
      // starts the clock.
      if (started.fetch_add(1, std::memory_order_acq_rel) == 1) t0 = Clock::now();
      while (started.load(std::memory_order_acquire) < 2) this_thread::yield();
      for (int i = 0; i < kYields; ++i) this_thread::yield();
      if (finished.fetch_add(1, std::memory_order_acq_rel) == 1) t1 = Clock::now();
    };
    auto a = rt.spawn(body);
    auto b = rt.spawn(body);
    a.join();
    b.join();
    rounds.push_back(ns_between(t0, t1) / (2.0 * kYields));
  }
  return median(rounds);
}

// Per spawn + join of a ULT returning 1, from a ULT; median of rounds.
double measure_spawn_join() {
  constexpr int kSpawns = 2'000;
  Runtime rt(one_worker(false, SchedulerKind::WorkStealing));
  std::vector<double> rounds;
  for (int r = 0; r < kRounds; ++r) {
    double ns = 0;
    rt.spawn([&] {
        long sum = 0;
        const auto t0 = Clock::now();
        for (int i = 0; i < kSpawns; ++i) sum += Runtime::current()->spawn([] { return 1; }).join();
        ns = ns_between(t0, Clock::now()) / kSpawns;
        if (sum != kSpawns) ns = kNaN;
      }).join();
    rounds.push_back(ns);
  }
  return median(rounds);
}

// From a spawn on this (kernel) thread while the worker is parked until the
// ULT runs; median of the samples taken while the worker really was parked.
// RSS growth per parked ULT (default stack size), over this many.
constexpr int kParkedUlts = 2000;

double measure_parked_ult() {
  Runtime rt(one_worker(false, SchedulerKind::WorkStealing));
  rt.spawn([] {}).join();  // the worker's own pages are resident
  const std::size_t before = SystemMetrics::current().rss_bytes;
  Latch release(1);
  Latch parked(kParkedUlts);
  std::vector<JoinHandle<void>> ults;
  ults.reserve(kParkedUlts);
  for (int i = 0; i < kParkedUlts; ++i)
    ults.push_back(rt.spawn([&] {
      parked.count_down();
      release.wait();
    }));
  parked.wait();
  const std::size_t after = SystemMetrics::current().rss_bytes;
  release.count_down();
  for (auto& u : ults) u.join();
  if (before == 0 || after <= before) return 0;
  return static_cast<double>(after - before) / kParkedUlts;
}

double measure_wake() {
  constexpr int kSamples = 25;
  Runtime rt(one_worker(false, SchedulerKind::WorkStealing));
  const detail::Worker& w = *rt.impl().workers.front();
  std::vector<double> samples;
  for (int i = 0; i < kSamples; ++i) {
    const auto limit = Clock::now() + std::chrono::milliseconds(50);
    while (w.parked.load(std::memory_order_seq_cst) == 0 && Clock::now() < limit)
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    if (w.parked.load(std::memory_order_seq_cst) == 0) continue;
    Clock::time_point ran;
    const auto t0 = Clock::now();
    rt.spawn([&ran] { ran = Clock::now(); }).join();
    samples.push_back(ns_between(t0, ran));
  }
  return median(samples);
}

// ---- preemption ----------------------------------------------------------

// A few dozen ns of work the compiler cannot remove, in this object's code
// (preemptible: not libc, not inside a runtime section).
[[gnu::noinline]] void spin_unit() {
  for (int i = 0; i < 64; ++i) asm volatile("" ::: "memory");
}
constexpr int kUnitsPerRead = 16;  // clock reads between spin units
// A gap this long between two reads of one spinner means it was switched out.
constexpr auto kGap = std::chrono::microseconds(20);

struct Spinner {
  std::uint64_t units = 0;
  std::vector<double> switch_ns;  // reserved: the spinner must not allocate
  double read_ns = 0;             // sum of read intervals without a gap
  std::uint64_t reads = 0;
};

struct Phase {
  std::atomic<bool> go{false};
  std::atomic<bool> stop{false};
  // The last clock read of whichever spinner ran last (one worker).
  std::atomic<Clock::rep> last_read{0};
};

void spin(Phase& ph, Spinner& s) {
  while (!ph.go.load(std::memory_order_acquire)) spin_unit();
  auto last = Clock::now();
  std::uint64_t taken = this_thread::preemption_counters().taken;
  bool first = true;  // the gap before the first resumption is not a switch
  std::uint64_t units = 0;
  while (!ph.stop.load(std::memory_order_relaxed)) {
    for (int k = 0; k < kUnitsPerRead; ++k) spin_unit();
    units += kUnitsPerRead;
    const auto t = Clock::now();
    const Clock::time_point other(Clock::duration(ph.last_read.load(std::memory_order_relaxed)));
    ph.last_read.store(t.time_since_epoch().count(), std::memory_order_relaxed);
    if (t - last <= kGap) {
      s.read_ns += ns_between(last, t);
      ++s.reads;
    } else {
      const std::uint64_t now_taken = this_thread::preemption_counters().taken;
      if (now_taken != taken) {  // preempted, and resumed now
        if (!first && s.switch_ns.size() < s.switch_ns.capacity())
          s.switch_ns.push_back(ns_between(other, t));
        first = false;
        taken = now_taken;
      }
    }
    last = t;
  }
  s.units = units;
}

double cpu_seconds(clockid_t c) {
  timespec ts{};
  if (clock_gettime(c, &ts) != 0) return kNaN;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct PhaseResult {
  std::uint64_t units = 0;
  double cpu_s = 0;
  PreemptionCounters counters;
  std::vector<double> switch_ns;
  double read_ns = 0;
  std::uint64_t reads = 0;
};

// `n` spinners on rt's one worker, for `window`, or when `min_taken` is not 0
// until that many preemptions were taken (at least `window`, at most
// `limit`); the worker's CPU time and the preemption counters over it.
PhaseResult run_phase(Runtime& rt, clockid_t clock, int n, std::chrono::milliseconds window,
                      std::uint64_t min_taken = 0,
                      std::chrono::milliseconds limit = std::chrono::milliseconds(0)) {
  Phase ph;
  std::vector<Spinner> spinners(static_cast<std::size_t>(n));
  for (Spinner& s : spinners) s.switch_ns.reserve(4096);
  std::vector<JoinHandle<void>> hs;
  for (Spinner& s : spinners) hs.push_back(rt.spawn([&ph, &s] { spin(ph, s); }));
  // Let the spinners start (and the monitor see them) before the window.
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const PreemptionStats before = preemption_stats(rt);
  const double cpu0 = cpu_seconds(clock);
  const auto t0 = Clock::now();
  ph.go.store(true, std::memory_order_release);
  std::this_thread::sleep_for(window);
  // On a loaded machine the worker gets less CPU, so fewer preemptions.
  while (min_taken && Clock::now() - t0 < limit &&
         preemption_stats(rt).total.taken - before.total.taken < min_taken)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ph.stop.store(true, std::memory_order_relaxed);
  const double cpu1 = cpu_seconds(clock);
  const PreemptionStats after = preemption_stats(rt);
  for (auto& h : hs) h.join();
  PhaseResult r;
  r.cpu_s = cpu1 - cpu0;
  r.counters.taken = after.total.taken - before.total.taken;
  r.counters.sent = after.total.sent - before.total.sent;
  for (const Spinner& s : spinners) {
    r.units += s.units;
    r.switch_ns.insert(r.switch_ns.end(), s.switch_ns.begin(), s.switch_ns.end());
    r.read_ns += s.read_ns;
    r.reads += s.reads;
  }
  return r;
}

void measure_preemption(Calibration& c) {
  Config cfg = one_worker(true, SchedulerKind::RoundRobin);
  cfg.time_slice = kMinTimeSlice;  // the most preemptions per second
  Runtime rt(cfg);
  detail::Worker& w = *rt.impl().workers.front();
  while (!w.cpu_clock_ready.load(std::memory_order_acquire)) std::this_thread::yield();
  const clockid_t clock = w.cpu_clock;
  // A: one spinner alone (nobody waits, so no preemption): work per CPU
  // second, before and after B (the rate drifts). B: two spinners,
  // preempted in turn every slice, until 500 preemptions (1 s at most).
  using std::chrono::milliseconds;
  const PhaseResult a1 = run_phase(rt, clock, 1, milliseconds(50));
  const PhaseResult b = run_phase(rt, clock, 2, milliseconds(100), 500, milliseconds(1000));
  const PhaseResult a2 = run_phase(rt, clock, 1, milliseconds(50));
  c.preemptions = b.counters.taken;
  c.signals_sent = b.counters.sent;
  // The gaps include on average one read interval of spinning (half before
  // the signal, half after the switch): take it off.
  const double read_interval = b.reads ? b.read_ns / static_cast<double>(b.reads) : 0;
  const double gap = median(b.switch_ns);
  c.preempt_switch_ns = std::isfinite(gap) ? std::max(gap - read_interval, 1.0) : kNaN;
  const double a_cpu = a1.cpu_s + a2.cpu_s;
  const double rate = a_cpu > 0 ? static_cast<double>(a1.units + a2.units) / a_cpu : 0;
  c.preempt_cpu_ns = kNaN;
  if (rate > 0 && b.counters.taken > 0) {
    const double lost_s = b.cpu_s - static_cast<double>(b.units) / rate;
    if (lost_s > 0) c.preempt_cpu_ns = lost_s / static_cast<double>(b.counters.taken) * 1e9;
  }
  // CPU time is what a preemption takes from the application; the wall-time
  // gap also grows when the kernel runs another thread in it (a loaded
  // machine), so it stands in only when the CPU estimate is lost in noise.
  c.preempt_ns = std::isfinite(c.preempt_cpu_ns) ? c.preempt_cpu_ns : c.preempt_switch_ns;
}

}  // namespace

Calibration calibrate() {
  if (Runtime::current())
    throw UsageError(
        "quanta::tune::calibrate: called from a ULT; it runs its own runtimes and sleeps "
        "between measurements, so call it from a kernel thread");
  const auto t0 = Clock::now();
  Calibration c;
  c.switch_ns = measure_switch();
  c.spawn_join_ns = measure_spawn_join();
  c.wake_ns = measure_wake();
  measure_preemption(c);
  c.signal_frame_bytes = static_cast<std::size_t>(getauxval(AT_MINSIGSTKSZ));
  c.parked_ult_bytes = measure_parked_ult();
  c.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return c;
}

}  // namespace quanta::tune
