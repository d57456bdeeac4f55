// quanta — Config::schedtrace / QUANTA_SCHEDTRACE: a thread that prints one
// line of scheduler state to stderr per interval, like Go's
// GODEBUG=schedtrace=ms:
//
//   quanta-sched 1000ms: workers=2 busy=2 idle=0 parked=0 runnable=5 [3 2]
//   shared=0 live=7 switches/s=2013 yields/s=1990 preemptions/s=12 steals/s=3
//   spawns/s=40 parks/s=0
//
// (one line). Rates are over the last interval; runnable is the sum of the
// per-worker queues in brackets and the shared queues.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace quanta::detail {

struct RuntimeCore;

class SchedTrace {
 public:
  explicit SchedTrace(RuntimeCore* rt);  // starts the thread
  ~SchedTrace();                         // stops and joins it
  SchedTrace(const SchedTrace&) = delete;
  SchedTrace& operator=(const SchedTrace&) = delete;
  // Lines printed so far.
  std::uint64_t lines() const noexcept { return lines_.load(std::memory_order_relaxed); }

 private:
  void run();
  RuntimeCore* rt_;
  std::atomic<std::uint32_t> stop_{0};  // futex word
  std::atomic<std::uint64_t> lines_{0};
  std::thread thread_;
};

// Totals of the counters one line reports rates of.
struct SchedTotals {
  std::uint64_t switches = 0, yields = 0, preemptions = 0, steals = 0, spawns = 0, parks = 0;
};

// One line (without the newline) from two totals taken `interval_ns` apart;
// the state part is read from rt now. Exposed for tests.
std::string schedtrace_line(RuntimeCore& rt, std::int64_t since_start_ns,
                            const SchedTotals& before, const SchedTotals& now,
                            std::int64_t interval_ns);
SchedTotals sched_totals(const RuntimeCore& rt);

}  // namespace quanta::detail
