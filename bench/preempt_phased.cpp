// Spinner groups taking turns in phases: quanta runtimes (preemption off or
// on at some slice) and kernel threads (with or without per-thread timers),
// all alive at once, each spinning only in the phases it owns.
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include <quanta/quanta.hpp>

#include "preempt.hpp"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

namespace qbench {
namespace {

struct alignas(64) Counter {
  std::atomic<std::uint64_t> n{0};
  std::atomic<pid_t> tid{0};  // quanta: the worker thread it first ran on
};

void bump(Counter& c) {
  c.n.store(c.n.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

pid_t gettid_now() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

std::set<pid_t> process_threads() {
  std::set<pid_t> out;
  if (DIR* d = opendir("/proc/self/task")) {
    while (const dirent* e = readdir(d)) {
      const pid_t tid = static_cast<pid_t>(std::atoi(e->d_name));
      if (tid > 0) out.insert(tid);
    }
    closedir(d);
  }
  return out;
}

timespec to_timespec(Clock::time_point t) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  return {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

// What every spinner of every group shares.
struct Shared {
  std::vector<Clock::time_point> bounds;  // phase k: [bounds[k], bounds[k+1])
  std::vector<std::size_t> owner;
  std::atomic<std::size_t> current{0};  // the phase the main thread has entered
  // Set once every group is set up and `bounds` is filled in: a spinner
  // that started early (a runtime with preemption off) must not hold its
  // worker while the ULTs behind it have not started yet.
  std::atomic<bool> go{false};
};

// Spins through every phase group g owns, sleeping in between with `sleep`.
template <class Sleep, class Begin, class End>
void take_turns(const Shared& sh, std::size_t g, Counter& c, Sleep sleep, Begin begin, End end) {
  while (!sh.go.load(std::memory_order_acquire)) sleep(Clock::now() + std::chrono::milliseconds(1));
  for (std::size_t k = 0; k < sh.owner.size(); ++k) {
    if (sh.owner[k] != g) continue;
    sleep(sh.bounds[k]);
    begin();
    while (sh.current.load(std::memory_order_relaxed) <= k) {
      spin_unit();
      bump(c);
    }
    end();
  }
}

}  // namespace

PhasedResult run_phased(const std::vector<PhasedGroup>& groups,
                        const std::vector<std::size_t>& owner, std::chrono::milliseconds phase) {
  install_peer_handler();
  const std::vector<int> cpus = allowed_cpus();
  Shared sh;
  sh.owner = owner;
  sh.bounds.resize(owner.size() + 1);

  const std::size_t n = groups.size();
  std::vector<std::unique_ptr<Counter[]>> counters(n);
  std::vector<std::unique_ptr<quanta::Runtime>> runtimes(n);
  std::vector<std::vector<quanta::JoinHandle<void>>> handles(n);
  std::vector<std::vector<std::thread>> threads(n);
  std::vector<std::vector<pid_t>> monitors(n);
  std::vector<quanta::PreemptionStats> before(n);

  for (std::size_t g = 0; g < n; ++g) {
    const PhasedGroup& pg = groups[g];
    counters[g] = std::make_unique<Counter[]>(pg.spinners);
    Counter* cs = counters[g].get();
    if (pg.quanta) {
      const std::set<pid_t> before_threads = process_threads();
      quanta::Config cfg;
      cfg.workers = pg.workers;
      cfg.preempt = pg.preempt;
      cfg.scheduler = quanta::SchedulerKind::RoundRobin;  // as in preempt_quanta.cpp
      cfg.time_slice = pg.slice;
      runtimes[g] = std::make_unique<quanta::Runtime>(cfg);
      for (unsigned i = 0; i < pg.spinners; ++i) {
        handles[g].push_back(runtimes[g]->spawn([&sh, g, &c = cs[i]] {
          c.tid.store(gettid_now(), std::memory_order_release);
          take_turns(
              sh, g, c, [](Clock::time_point t) { quanta::this_thread::sleep_until(t); }, [] {},
              [] {});
        }));
      }
      // The runtime's threads that are not workers: its monitor.
      for (unsigned i = 0; i < pg.spinners; ++i) {
        while (cs[i].tid.load(std::memory_order_acquire) == 0) std::this_thread::yield();
      }
      for (const pid_t t : process_threads()) {
        if (before_threads.count(t)) continue;
        bool worker = false;
        for (unsigned i = 0; i < pg.spinners; ++i) worker |= cs[i].tid.load() == t;
        if (!worker) monitors[g].push_back(t);
      }
      before[g] = quanta::preemption_stats(*runtimes[g]);
    } else {
      std::atomic<unsigned> ready{0};
      std::atomic<bool> failed{false};
      for (unsigned i = 0; i < pg.spinners; ++i) {
        threads[g].emplace_back([&sh, &cpus, &ready, &failed, cs, g, i, interval = pg.timer] {
          pin_to_allowed_cpu(cpus, i);
          timer_t timer{};
          bool have_timer = false;
          if (interval.count() > 0) {
            sigevent sev{};
            sev.sigev_notify = SIGEV_THREAD_ID;
            sev.sigev_signo = kPeerSignal;
            sev.sigev_notify_thread_id = gettid_now();
            have_timer = timer_create(CLOCK_MONOTONIC, &sev, &timer) == 0;
            if (!have_timer) failed.store(true);
          }
          ready.fetch_add(1, std::memory_order_release);
          itimerspec on{}, off{};
          const long ns = static_cast<long>(interval.count()) * 1000;
          on.it_interval.tv_sec = ns / 1'000'000'000;
          on.it_interval.tv_nsec = ns % 1'000'000'000;
          on.it_value = on.it_interval;
          take_turns(
              sh, g, cs[i],
              [](Clock::time_point t) {
                const timespec ts = to_timespec(t);
                while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
                }
              },
              [&] {
                if (have_timer) timer_settime(timer, 0, &on, nullptr);
              },
              [&] {
                if (have_timer) timer_settime(timer, 0, &off, nullptr);
              });
          if (have_timer) timer_delete(timer);
        });
      }
      while (ready.load(std::memory_order_acquire) < pg.spinners) std::this_thread::yield();
      if (failed.load()) {
        sh.current.store(owner.size());
        sh.go.store(true, std::memory_order_release);  // let them all run out
        for (auto& t : threads[g]) t.join();
        throw std::runtime_error("timer_create failed");
      }
    }
  }

  // The phases start once everything is set up, however long that took.
  const auto start = Clock::now() + std::chrono::milliseconds(20);
  for (std::size_t k = 0; k <= owner.size(); ++k)
    sh.bounds[k] = start + phase * static_cast<int>(k);
  sh.go.store(true, std::memory_order_release);

  PhasedResult r;
  std::vector<std::uint64_t> sleeps0(n);
  for (std::size_t g = 0; g < n; ++g) sleeps0[g] = thread_sleeps(monitors[g]);
  r.signals.assign(n, 0);
  for (std::size_t k = 0; k <= owner.size(); ++k) {
    std::this_thread::sleep_until(sh.bounds[k]);
    PhaseSample ps;
    ps.wall = Seconds(Clock::now() - sh.bounds[0]).count();
    ps.cpu = process_cpu_now();
    for (std::size_t g = 0; g < n; ++g)
      for (unsigned i = 0; i < groups[g].spinners; ++i)
        ps.units += counters[g][i].n.load(std::memory_order_relaxed);
    ps.events = peer_signals_handled();
    r.samples.push_back(ps);
    if (k > 0) r.signals[owner[k - 1]] += ps.events - r.samples[k - 1].events;
    sh.current.store(k, std::memory_order_relaxed);
  }
  sh.current.store(owner.size() + 1, std::memory_order_relaxed);
  r.counters.resize(n);
  r.monitor_sleeps.resize(n);
  for (std::size_t g = 0; g < n; ++g) {
    if (runtimes[g]) {
      r.counters[g] = counters_growth(quanta::preemption_stats(*runtimes[g]), before[g]);
      r.monitor_sleeps[g] = thread_sleeps(monitors[g]) - sleeps0[g];
    }
  }
  for (std::size_t g = 0; g < n; ++g) {
    for (auto& h : handles[g]) h.join();
    for (auto& t : threads[g]) t.join();
    runtimes[g].reset();
  }
  return r;
}

}  // namespace qbench
