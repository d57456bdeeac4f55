// Kernel-thread peers of the preemption cost: a spinning thread hit by
// tgkill() from another thread. The signal is SIGUSR1 (quanta's own is
// SIGURG); its SA_SIGINFO handler only counts the signal. (The per-thread
// POSIX timer peer is a group of preempt_phased.cpp.)
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "preempt.hpp"

namespace qbench {
namespace {

std::atomic<std::uint64_t> g_handled{0};

void on_signal(int, siginfo_t*, void*) { g_handled.fetch_add(1, std::memory_order_relaxed); }

struct Slot {
  clockid_t clock{};  // the spinning thread's CPU-time clock
};

double cpu_seconds(const std::vector<Slot>& slots) {
  double sum = 0;
  for (const Slot& s : slots) {
    timespec ts{};
    if (clock_gettime(s.clock, &ts) == 0) sum += static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
  }
  return sum;
}

struct Window {
  std::atomic<bool> go{false};
  std::atomic<bool> stop{false};
  std::atomic<unsigned> ready{0};
};

// Waits for the spinners to be ready, then opens the window, sleeps through
// it and closes it.
void run_window(Window& w, const std::vector<Slot>& slots, Seconds window) {
  while (w.ready.load(std::memory_order_acquire) < slots.size()) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  w.go.store(true, std::memory_order_release);
  std::this_thread::sleep_for(window);
  w.stop.store(true, std::memory_order_relaxed);
}

// Readies the calling spinner: its CPU clock into `s`, then counts it.
void ready(Window& w, Slot& s) {
  pthread_getcpuclockid(pthread_self(), &s.clock);
  w.ready.fetch_add(1, std::memory_order_release);
}

}  // namespace

void install_peer_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(kPeerSignal, &sa, nullptr) != 0) throw std::runtime_error("sigaction failed");
  });
}

std::uint64_t peer_signals_handled() { return g_handled.load(std::memory_order_relaxed); }

PhaseCost signal_phase_cost(std::chrono::microseconds period, std::chrono::milliseconds phase,
                            int pairs) {
  install_peer_handler();
  const std::vector<int> cpus = allowed_cpus();
  const std::size_t phases = 2 * static_cast<std::size_t>(pairs) + 1;
  struct alignas(64) Counter {
    std::atomic<std::uint64_t> n{0};
  };
  Counter c1;
  std::atomic<std::size_t> current{0};
  std::atomic<bool> stop{false};
  Window w;
  std::vector<Slot> slots(1);
  std::atomic<pid_t> tid{0};
  std::vector<Clock::time_point> bounds(phases + 1);
  const auto start = Clock::now() + std::chrono::milliseconds(20);
  for (std::size_t k = 0; k <= phases; ++k) bounds[k] = start + phase * static_cast<int>(k);

  std::thread spinner([&] {
    pin_to_allowed_cpu(cpus, 0);
    tid.store(static_cast<pid_t>(::syscall(SYS_gettid)), std::memory_order_release);
    ready(w, slots[0]);
    while (!stop.load(std::memory_order_relaxed)) {
      spin_unit();
      c1.n.store(c1.n.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
  });
  std::thread sender([&] {
    while (tid.load(std::memory_order_acquire) == 0) std::this_thread::yield();
    const pid_t pid = ::getpid();
    const timespec ts{0, static_cast<long>(period.count()) * 1000};
    for (std::size_t k = 1; k < phases; k += 2) {
      std::this_thread::sleep_until(bounds[k]);
      while (current.load(std::memory_order_relaxed) <= k &&
             !stop.load(std::memory_order_relaxed)) {
        clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, nullptr);
        if (current.load(std::memory_order_relaxed) > k) break;
        ::syscall(SYS_tgkill, pid, tid.load(std::memory_order_relaxed), kPeerSignal);
      }
    }
  });
  while (w.ready.load(std::memory_order_acquire) < 1) std::this_thread::yield();
  std::vector<PhaseSample> samples;
  samples.reserve(phases + 1);
  for (std::size_t k = 0; k <= phases; ++k) {
    std::this_thread::sleep_until(bounds[k]);
    PhaseSample ps;
    ps.wall = Seconds(Clock::now() - bounds[0]).count();
    ps.cpu = cpu_seconds(slots);
    ps.units = c1.n.load(std::memory_order_relaxed);
    ps.events = g_handled.load(std::memory_order_relaxed);
    samples.push_back(ps);
    current.store(k, std::memory_order_relaxed);
  }
  stop.store(true, std::memory_order_relaxed);
  spinner.join();
  sender.join();
  return phase_costs(samples);
}

std::vector<double> signal_gaps(std::chrono::microseconds period, Seconds window,
                                unsigned units_per_read) {
  install_peer_handler();
  const std::vector<int> cpus = allowed_cpus();
  // Shorter than any signal's round trip, longer than a read interval.
  constexpr auto kGap = std::chrono::microseconds(2);
  const unsigned per_read = std::max(1u, units_per_read);
  Window w;
  std::vector<Slot> slots(1);
  std::atomic<pid_t> tid{0};
  std::vector<double> gaps;
  gaps.reserve(static_cast<std::size_t>(window / Seconds(period)) + 64);
  std::thread spinner([&] {
    pin_to_allowed_cpu(cpus, 0);
    tid.store(static_cast<pid_t>(::syscall(SYS_gettid)), std::memory_order_release);
    ready(w, slots[0]);
    while (!w.go.load(std::memory_order_acquire)) spin_unit();
    auto last = Clock::now();
    std::uint64_t handled = g_handled.load(std::memory_order_relaxed);
    while (!w.stop.load(std::memory_order_relaxed)) {
      for (unsigned k = 0; k < per_read; ++k) spin_unit();
      const auto t = Clock::now();
      const std::uint64_t h = g_handled.load(std::memory_order_relaxed);
      if (h != handled) {
        if (t - last > kGap && gaps.size() < gaps.capacity())
          gaps.push_back(std::chrono::duration<double, std::nano>(t - last).count());
        handled = h;
      }
      last = t;
    }
  });
  std::thread sender([&] {
    while (tid.load(std::memory_order_acquire) == 0) std::this_thread::yield();
    const pid_t pid = ::getpid();
    const timespec ts{0, static_cast<long>(period.count()) * 1000};
    while (!w.stop.load(std::memory_order_relaxed)) {
      clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, nullptr);
      ::syscall(SYS_tgkill, pid, tid.load(std::memory_order_relaxed), kPeerSignal);
    }
  });
  run_window(w, slots, window);
  spinner.join();
  sender.join();
  return gaps;
}

}  // namespace qbench
