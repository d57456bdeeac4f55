// quanta tests — helpers shared by the test files, and tests-only hooks into
// the runtime's internals (never part of the public API).
#pragma once
#include <quanta/quanta.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>
#include <vector>

#include "core/runtime_core.hpp"

namespace quanta::test {

inline Config config(unsigned workers, bool preempt = false) {
  Config c;
  c.workers = workers;
  c.preempt = preempt;
  return c;
}

// The same with the work-stealing scheduler.
inline Config work_stealing(unsigned workers, bool preempt = false) {
  Config c = config(workers, preempt);
  c.scheduler = SchedulerKind::WorkStealing;
  return c;
}

// The same with the round-robin scheduler (priorities, strict FIFO order).
inline Config round_robin(unsigned workers, bool preempt = false) {
  Config c = config(workers, preempt);
  c.scheduler = SchedulerKind::RoundRobin;
  return c;
}

// A preemptive runtime configuration with the given slice.
inline Config preemptive(unsigned workers, std::chrono::microseconds slice) {
  Config c = config(workers, true);
  c.time_slice = slice;
  return c;
}

// Index of the worker running the calling ULT (tests only).
inline unsigned worker_index() {
  detail::Ult* u = detail::current_ult();
  return u ? u->worker->index : ~0u;
}

// Burns about n loop iterations in the calling code (not in any library), so
// that a preemption signal lands in preemptible code.
inline void burn(int n) {
  for (int k = 0; k < n; ++k) asm volatile("" ::: "memory");
}

// Waits (kernel thread) until pred() holds, polling; false after `limit`.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(20000)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

inline std::vector<detail::Worker*> workers_of(Runtime& rt) {
  std::vector<detail::Worker*> out;
  for (auto& w : rt.impl().workers) out.push_back(w.get());
  return out;
}

// The control block of the calling ULT (tests only).
inline detail::Ult* current_ult() { return detail::current_ult(); }

// How much smaller stress tests make their iteration counts where everything
// runs several times slower: under AddressSanitizer (10x) and in the cross
// builds, which run under QEMU (20x). Tests divide by it and keep at least a
// meaningful minimum.
#if defined(__SANITIZE_ADDRESS__)
#define QUANTA_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QUANTA_TEST_ASAN 1
#endif
#endif
inline constexpr long kStressDivisor =
#if defined(QUANTA_TEST_ASAN)
    10 *
#endif
#if !defined(__x86_64__)
    20 *
#endif
    1;
inline long stress_scaled(long n, long minimum = 1) {
  return n / kStressDivisor > minimum ? n / kStressDivisor : minimum;
}

// Aborts the test binary with a message when `progress` has not changed for
// `limit`: a hang (a lost wake-up) then fails fast with a diagnosis instead
// of running into the ctest timeout. Stop it (destroy it) before the end.
class Watchdog {
 public:
  Watchdog(const char* what, std::function<std::uint64_t()> progress,
           std::chrono::seconds limit = std::chrono::seconds(60))
      : thread_([this, what, progress = std::move(progress), limit] {
          std::uint64_t last = progress();
          auto since = std::chrono::steady_clock::now();
          while (!stop_.load()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            const std::uint64_t now = progress();
            if (now != last) {
              last = now;
              since = std::chrono::steady_clock::now();
            } else if (std::chrono::steady_clock::now() - since > limit) {
              std::fprintf(stderr, "watchdog: %s made no progress for %llds (stuck at %llu)\n",
                           what, static_cast<long long>(limit.count()),
                           static_cast<unsigned long long>(now));
              std::abort();
            }
          }
        }) {}
  ~Watchdog() {
    stop_.store(true);
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace quanta::test
