// quanta — HealthMonitor: a thread that samples a runtime's metrics at an
// interval and reports thresholds that are exceeded, to a callback or as a
// warning on stderr.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quanta/metrics.hpp"

namespace quanta {

class Runtime;

// What is checked; an empty field is not checked. Values out of range make
// the HealthMonitor constructor throw ConfigError.
struct HealthThresholds {
  // The 99th percentile of the context switches sampled since the last
  // check that evaluated it (as context_switch_stats: one switch in 32 is
  // measured; a check waits until 16 new samples exist). 1 ns .. 1 s.
  std::optional<std::chrono::nanoseconds> max_switch_time;
  // The process's resident set (SystemMetrics::rss_bytes; not checked where
  // /proc/self/statm cannot be read). 1 byte and up.
  std::optional<std::size_t> max_rss_bytes;
  // The CPU time the runtime's worker threads used since the last check,
  // divided by (wall time x workers): 1 means every worker ran the whole
  // time, spinning included. (0, 1].
  std::optional<double> max_cpu_share;
  // Runnable ULTs waiting in the runtime's queues (SystemMetrics::runnable:
  // every worker's own queues and the shared ones). 1 and up.
  std::optional<std::size_t> max_run_queue;
  // A worker that has had runnable ULTs queued and has not switched for
  // more than this many Config::time_slice (see HealthIssue::Starvation).
  // 1 .. 1000000.
  std::optional<unsigned> starving_slices;
};

enum class HealthIssue : std::uint8_t { SwitchTime, Memory, Cpu, RunQueue, Starvation };

// "switch time", "memory", "CPU", "run queue", "starvation".
const char* health_issue_name(HealthIssue issue) noexcept;

struct HealthEvent {
  HealthIssue issue = HealthIssue::SwitchTime;
  // The measured value and the threshold it exceeded, in the threshold's
  // unit: ns, bytes, share (0..1), ULTs, time slices.
  double value = 0;
  double threshold = 0;
  // The line the default action prints, without the newline:
  // "quanta: health: run queue: 812 ULTs waiting exceed the threshold 500
  // (worker 0: 700, worker 1: 112, shared: 0)".
  std::string message;
  // The reading the check was made from.
  SystemMetrics metrics;
};

// Starts a thread that checks `rt` every `interval` against the thresholds.
// Each check that finds thresholds exceeded makes one HealthEvent per issue
// and hands it to the callback (on the monitor's thread, or on the thread
// calling check()); without a callback, it prints `event.message` on stderr,
// at most one line per issue per second. Must be destroyed before `rt`:
// ~Runtime aborts with a message while a HealthMonitor watches it.
class HealthMonitor {
 public:
  using Callback = std::function<void(const HealthEvent&)>;
  static constexpr std::chrono::milliseconds kMinInterval{1};
  static constexpr std::chrono::milliseconds kMaxInterval{3'600'000};

  // ConfigError: interval or a threshold out of range. ResourceError: the
  // thread could not be started.
  HealthMonitor(const Runtime& rt, const HealthThresholds& thresholds,
                std::chrono::milliseconds interval = std::chrono::milliseconds(100));
  // The same with the callback set from the first check on.
  HealthMonitor(const Runtime& rt, const HealthThresholds& thresholds,
                std::chrono::milliseconds interval, Callback on_issue);
  ~HealthMonitor();  // stops and joins the thread
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  // Replaces the callback; an empty one restores the stderr warning. Not
  // from inside the callback.
  void on_issue(Callback cb);

  // One check now, as the thread makes them: reads the metrics, compares,
  // hands the events to the callback (or the warning) and returns them. The
  // interval-based figures (switch time, CPU share, starvation) cover the
  // time since the previous check, whoever made it.
  std::vector<HealthEvent> check();

  std::uint64_t samples() const noexcept;  // checks made so far
  std::uint64_t events() const noexcept;   // events found so far (after delivery)
  const HealthThresholds& thresholds() const noexcept;
  std::chrono::milliseconds interval() const noexcept;

  struct State;

 private:
  std::unique_ptr<State> s_;
};

}  // namespace quanta
