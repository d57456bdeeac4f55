// quanta preemption cases: spinning ULTs whose work is counted over a window
// or in phases that alternate with a baseline, and whose runs are timed; and
// the helpers the other preemption files share.
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include <quanta/quanta.hpp>

#include "preempt.hpp"

namespace qbench {
namespace {

// Time given to the spawned ULTs to start (and, with preemption on, to the
// monitor to see them) before the window opens.
constexpr auto kSettle = std::chrono::milliseconds(10);

// A gap this long between two clock reads ~1 us of work apart means the
// spinner was not running in between.
constexpr auto kGap = std::chrono::microseconds(20);

// Each spinner's count in its own cache line, and the CPU-time clock of the
// worker thread it started on.
struct alignas(64) Slot {
  std::uint64_t units = 0;
  clockid_t clock{};
  pid_t tid = 0;
  std::atomic<bool> has_clock{false};
};

// Records the CPU-time clock and thread id of the calling ULT's worker thread.
void publish_clock(Slot& s) {
  s.tid = static_cast<pid_t>(::syscall(SYS_gettid));
  if (pthread_getcpuclockid(pthread_self(), &s.clock) == 0)
    s.has_clock.store(true, std::memory_order_release);
}

// The process's threads other than this one and the given workers: the
// runtime's monitor when preemption is on (quanta names no threads).
std::vector<pid_t> other_threads(const std::vector<Slot>& slots) {
  std::vector<pid_t> out;
  const pid_t self = static_cast<pid_t>(::syscall(SYS_gettid));
  DIR* d = opendir("/proc/self/task");
  if (!d) return out;
  while (const dirent* e = readdir(d)) {
    const pid_t tid = static_cast<pid_t>(std::atoi(e->d_name));
    if (tid <= 0 || tid == self) continue;
    bool worker = false;
    for (const Slot& s : slots)
      if (s.has_clock.load(std::memory_order_acquire) && s.tid == tid) worker = true;
    if (!worker) out.push_back(tid);
  }
  closedir(d);
  return out;
}

// Sum of the CPU time of a set of threads.
struct CpuClocks {
  std::vector<clockid_t> ids;
  void add(clockid_t c) {
    if (std::find(ids.begin(), ids.end(), c) == ids.end()) ids.push_back(c);
  }
  double seconds() const {
    double sum = 0;
    for (const clockid_t c : ids) {
      timespec ts{};
      if (clock_gettime(c, &ts) == 0) sum += static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
    }
    return sum;
  }
};

// The worker threads the started spinners run on.
CpuClocks worker_clocks(const std::vector<Slot>& slots) {
  CpuClocks c;
  for (const Slot& s : slots)
    if (s.has_clock.load(std::memory_order_acquire)) c.add(s.clock);
  return c;
}

struct Window {
  std::atomic<bool> go{false};
  std::atomic<bool> stop{false};
};

quanta::Config config(unsigned workers, bool preempt, std::chrono::microseconds slice) {
  quanta::Config cfg;
  cfg.workers = workers;
  cfg.preempt = preempt;
  // Round-robin deals the spinners evenly over the workers and keeps them
  // there: the rows measure preemption, not how a policy spreads CPU-bound
  // ULTs (work stealing keeps a preempted ULT on its worker; see
  // docs/preemption.md for its fairness figure).
  cfg.scheduler = quanta::SchedulerKind::RoundRobin;
  cfg.time_slice = slice;
  return cfg;
}

// Opens the window, sleeps through it and closes it; fills in r's window
// length, workers' CPU time, monitor sleeps and counters.
void run_window(quanta::Runtime& rt, Window& w, Seconds window, const std::vector<Slot>& slots,
                SpinResult& r) {
  std::this_thread::sleep_for(kSettle);
  const CpuClocks clocks = worker_clocks(slots);
  const std::vector<pid_t> others = other_threads(slots);
  const std::uint64_t sleeps0 = thread_sleeps(others);
  const quanta::PreemptionStats before = quanta::preemption_stats(rt);
  const double cpu0 = clocks.seconds();
  const auto t0 = Clock::now();
  w.go.store(true, std::memory_order_release);
  std::this_thread::sleep_for(window);
  w.stop.store(true, std::memory_order_relaxed);
  const auto t1 = Clock::now();
  r.cpu_seconds = clocks.seconds() - cpu0;
  r.counters = counters_growth(quanta::preemption_stats(rt), before);
  r.seconds = Seconds(t1 - t0).count();
  r.monitor_sleeps = thread_sleeps(others) - sleeps0;
}

}  // namespace

std::uint64_t SpinResult::total() const noexcept {
  std::uint64_t t = 0;
  for (const std::uint64_t u : units) t += u;
  return t;
}

double process_cpu_now() {
  timespec ts{};
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  return cpus;
}

unsigned allowed_cpu_count() { return std::max(1u, static_cast<unsigned>(allowed_cpus().size())); }

void pin_to_allowed_cpu(const std::vector<int>& cpus, std::size_t i) {
  if (cpus.empty()) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpus[i % cpus.size()], &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

std::uint64_t thread_sleeps(const std::vector<pid_t>& tids) {
  std::uint64_t n = 0;
  for (const pid_t tid : tids) {
    std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/status");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0) n += std::stoull(line.substr(24));
    }
  }
  return n;
}

quanta::PreemptionStats counters_growth(const quanta::PreemptionStats& after,
                                        const quanta::PreemptionStats& before) {
  quanta::PreemptionStats d;
  for (std::size_t i = 0; i < after.per_worker.size(); ++i) {
    quanta::PreemptionCounters c = after.per_worker[i];
    if (i < before.per_worker.size()) {
      c.sent -= before.per_worker[i].sent;
      c.taken -= before.per_worker[i].taken;
      c.deferred -= before.per_worker[i].deferred;
      c.deferred_taken -= before.per_worker[i].deferred_taken;
      c.ignored -= before.per_worker[i].ignored;
    }
    d.total.sent += c.sent;
    d.total.taken += c.taken;
    d.total.deferred += c.deferred;
    d.total.deferred_taken += c.deferred_taken;
    d.total.ignored += c.ignored;
    d.per_worker.push_back(c);
  }
  return d;
}

double spin_units_per_us() {
  // The best of several short rounds: a round the thread was descheduled in
  // reads low.
  double best = 0;
  for (int round = 0; round < 5; ++round) {
    const auto t0 = Clock::now();
    std::uint64_t n = 0;
    Clock::time_point t1;
    do {
      for (int i = 0; i < 100; ++i) spin_unit();
      n += 100;
      t1 = Clock::now();
    } while (t1 - t0 < std::chrono::milliseconds(4));
    best = std::max(
        best, static_cast<double>(n) / std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  return best;
}

SpinResult quanta_spin(unsigned workers, unsigned ults, bool preempt,
                       std::chrono::microseconds slice, Seconds window) {
  SpinResult r;
  std::vector<Slot> slots(ults);
  Window w;
  {
    quanta::Runtime rt(config(workers, preempt, slice));
    std::vector<quanta::JoinHandle<void>> handles;
    handles.reserve(ults);
    for (unsigned i = 0; i < ults; ++i) {
      handles.push_back(rt.spawn([&w, &slot = slots[i]] {
        publish_clock(slot);
        while (!w.go.load(std::memory_order_acquire)) spin_unit();
        std::uint64_t n = 0;
        while (!w.stop.load(std::memory_order_relaxed)) {
          spin_unit();
          ++n;
        }
        slot.units = n;
      }));
    }
    run_window(rt, w, window, slots, r);
    for (auto& h : handles) h.join();
  }
  for (const Slot& s : slots) r.units.push_back(s.units);
  return r;
}

LatenessResult quanta_lateness(std::chrono::microseconds slice, Seconds window,
                               unsigned units_per_read) {
  const unsigned per_read = std::max(1u, units_per_read);
  struct Record {
    std::vector<double> runs;
    std::vector<double> switches;
    std::uint64_t other_gaps = 0;
    std::uint64_t runs_with_other_gaps = 0;
    double read_ns = 0;  // sum of the intervals between reads without a gap
    std::uint64_t reads = 0;
  };
  // Reserved up front: the spinners must not allocate (malloc is not
  // preemptible code and would turn preemptions into deferrals).
  const std::size_t cap = static_cast<std::size_t>(window / Seconds(slice)) + 64;
  std::vector<Record> recs(2);
  for (Record& rec : recs) {
    rec.runs.reserve(cap);
    rec.switches.reserve(cap);
  }
  // The last clock read of whichever ULT ran last (one worker: one at a time).
  std::atomic<Clock::rep> last_read{0};
  std::vector<Slot> slots(recs.size());

  LatenessResult r;
  Window w;
  {
    quanta::Runtime rt(config(1, true, slice));
    std::vector<quanta::JoinHandle<void>> handles;
    for (std::size_t i = 0; i < recs.size(); ++i) {
      handles.push_back(rt.spawn([&w, &rec = recs[i], &slot = slots[i], &last_read, per_read, cap] {
        publish_clock(slot);
        while (!w.go.load(std::memory_order_acquire)) spin_unit();
        auto last = Clock::now();
        auto start = last;
        last_read.store(last.time_since_epoch().count(), std::memory_order_relaxed);
        std::uint64_t taken = quanta::this_thread::preemption_counters().taken;
        bool first = true;  // the run in progress at `go` has no known start
        bool other_gap = false;
        while (!w.stop.load(std::memory_order_relaxed)) {
          for (unsigned k = 0; k < per_read; ++k) spin_unit();
          const auto t = Clock::now();
          const Clock::time_point before(
              Clock::duration(last_read.load(std::memory_order_relaxed)));
          last_read.store(t.time_since_epoch().count(), std::memory_order_relaxed);
          if (t - last <= kGap) {
            rec.read_ns += std::chrono::duration<double, std::nano>(t - last).count();
            ++rec.reads;
          } else {
            const std::uint64_t now_taken = quanta::this_thread::preemption_counters().taken;
            if (now_taken == taken) {
              // Not switched out: the worker thread itself did not run.
              ++rec.other_gaps;
              other_gap = true;
            } else {
              // Switched out by a preemption; `before` is the last read of the
              // ULT whose own preemption switched this one back in.
              if (!first && rec.runs.size() < cap) {
                rec.runs.push_back(std::chrono::duration<double, std::nano>(last - start).count());
                rec.runs_with_other_gaps += other_gap;
              }
              if (!first && rec.switches.size() < cap)
                rec.switches.push_back(
                    std::chrono::duration<double, std::nano>(t - before).count());
              first = false;
              other_gap = false;
              start = t;
              taken = now_taken;
            }
          }
          last = t;
        }
      }));
    }
    SpinResult sr;
    run_window(rt, w, window, slots, sr);
    r.seconds = sr.seconds;
    r.counters = sr.counters;
    r.monitor_sleeps = sr.monitor_sleeps;
    for (auto& h : handles) h.join();
  }
  double read_ns = 0;
  std::uint64_t reads = 0;
  for (const Record& rec : recs) {
    r.run_ns.insert(r.run_ns.end(), rec.runs.begin(), rec.runs.end());
    r.switch_ns.insert(r.switch_ns.end(), rec.switches.begin(), rec.switches.end());
    r.other_gaps += rec.other_gaps;
    r.runs_with_other_gaps += rec.runs_with_other_gaps;
    read_ns += rec.read_ns;
    reads += rec.reads;
  }
  r.read_interval_ns = reads ? read_ns / static_cast<double>(reads) : 0;
  return r;
}

PhaseCost phase_costs(const std::vector<PhaseSample>& s) {
  PhaseCost c;
  if (s.size() < 4) return c;
  c.seconds = s.back().wall - s.front().wall;
  std::uint64_t events = 0;
  double b_wall = 0;
  for (std::size_t k = 1; k + 2 < s.size(); k += 2) {
    const auto units = [&](std::size_t i) {
      return static_cast<double>(s[i + 1].units - s[i].units);
    };
    const auto wall = [&](std::size_t i) { return s[i + 1].wall - s[i].wall; };
    const auto cpu = [&](std::size_t i) { return s[i + 1].cpu - s[i].cpu; };
    const double ev = static_cast<double>(s[k + 1].events - s[k].events);
    events += s[k + 1].events - s[k].events;
    b_wall += wall(k);
    if (ev <= 0) continue;
    const double ua = units(k - 1) + units(k + 1);
    const double rate_cpu = ua / (cpu(k - 1) + cpu(k + 1));
    const double rate_wall = ua / (wall(k - 1) + wall(k + 1));
    c.cpu_ns.push_back((cpu(k) - units(k) / rate_cpu) / ev * 1e9);
    c.wall_ns.push_back((wall(k) - units(k) / rate_wall) / ev * 1e9);
  }
  c.events_per_s = b_wall > 0 ? static_cast<double>(events) / b_wall : 0;
  return c;
}

PhaseCost quanta_phase_cost(std::chrono::microseconds slice, std::chrono::milliseconds phase,
                            int pairs) {
  const std::size_t phases = 2 * static_cast<std::size_t>(pairs) + 1;
  struct alignas(64) Counter {
    std::atomic<std::uint64_t> n{0};
  };
  Counter c1, c2;
  std::atomic<std::size_t> current{0};  // the phase the main thread has entered
  std::atomic<bool> stop{false};
  std::vector<Slot> slots(1);
  // Phase boundaries, fixed before the ULTs start.
  std::vector<Clock::time_point> bounds(phases + 1);
  const auto start = Clock::now() + std::chrono::milliseconds(20);
  for (std::size_t k = 0; k <= phases; ++k) bounds[k] = start + phase * static_cast<int>(k);

  std::vector<PhaseSample> samples;
  samples.reserve(phases + 1);
  quanta::PreemptionStats before, after;
  {
    quanta::Runtime rt(config(1, true, slice));
    // Single writer per counter: a plain load and store, no locked add.
    auto h1 = rt.spawn([&] {
      publish_clock(slots[0]);
      while (!stop.load(std::memory_order_relaxed)) {
        spin_unit();
        c1.n.store(c1.n.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      }
    });
    auto h2 = rt.spawn([&] {
      for (std::size_t k = 1; k < phases; k += 2) {
        quanta::this_thread::sleep_until(bounds[k]);
        while (current.load(std::memory_order_relaxed) <= k &&
               !stop.load(std::memory_order_relaxed)) {
          spin_unit();
          c2.n.store(c2.n.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        }
      }
    });
    while (!slots[0].has_clock.load(std::memory_order_acquire)) std::this_thread::yield();
    CpuClocks clock;
    clock.add(slots[0].clock);
    before = quanta::preemption_stats(rt);
    for (std::size_t k = 0; k <= phases; ++k) {
      std::this_thread::sleep_until(bounds[k]);
      PhaseSample ps;
      ps.wall = Seconds(Clock::now() - bounds[0]).count();
      ps.cpu = clock.seconds();
      ps.units = c1.n.load(std::memory_order_relaxed) + c2.n.load(std::memory_order_relaxed);
      ps.events = quanta::preemption_stats(rt).total.taken;
      samples.push_back(ps);
      current.store(k, std::memory_order_relaxed);
    }
    after = quanta::preemption_stats(rt);
    stop.store(true, std::memory_order_relaxed);
    h1.join();
    h2.join();
  }
  PhaseCost c = phase_costs(samples);
  c.counters = counters_growth(after, before);
  return c;
}

}  // namespace qbench
