// quanta side of the synchronisation rows: Mutex between ULTs on 2 workers.
// Each batch is timed by the calling kernel thread from spawning the ULTs to
// joining the last, as the peers are timed from releasing their threads.
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <quanta/quanta.hpp>

#include "workloads.hpp"

namespace qbench {
namespace {

std::shared_ptr<quanta::Runtime> sync_runtime(unsigned workers) {
  quanta::Config cfg;
  cfg.workers = workers;
  cfg.preempt = false;
  cfg.stack_size = kWorkloadStackSize;
  return std::make_shared<quanta::Runtime>(cfg);
}

std::uint64_t share_of(const char* what, std::uint64_t ops, unsigned n) {
  if (n == 0 || ops % n != 0) {
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(ops) +
                                " operations do not split over " + std::to_string(n));
  }
  return ops / n;
}

// Runs fn(i) in n ULTs; returns the wall time until the last one is joined.
template <class F>
Clock::duration on_ults(quanta::Runtime& rt, unsigned n, F fn) {
  std::vector<quanta::JoinHandle<void>> ults;
  ults.reserve(n);
  const auto t0 = Clock::now();
  for (unsigned i = 0; i < n; ++i) ults.push_back(rt.spawn([&fn, i] { fn(i); }));
  for (auto& u : ults) u.join();
  return Clock::now() - t0;
}

}  // namespace

Batch quanta_mutex(const WorkloadParams& p) {
  return [rt = sync_runtime(kWorkloadThreads), n = p.mutex_contenders, hold = p.mutex_hold](std::uint64_t ops) {
    const std::uint64_t each = share_of("quanta::Mutex", ops, n);
    quanta::Mutex m;
    std::uint64_t counter = 0;
    const auto elapsed = on_ults(*rt, n, [&](unsigned) {
      for (std::uint64_t i = 0; i < each; ++i) {
        std::lock_guard lk(m);
        ++counter;
        busy_work(hold);
      }
    });
    check_result("quanta::Mutex counter", counter, ops);
    return elapsed;
  };
}

}  // namespace qbench
