// quanta — writing worker traces as Chrome trace-event JSON, the format
// ui.perfetto.dev and chrome://tracing open (docs/tracing.md has the
// layout of the file).
#pragma once
#include <cstdint>
#include <cstdio>
#include <vector>

#include "trace/buffer.hpp"

namespace quanta::detail {

// One worker's events: one thread track of the file.
struct TraceTrack {
  unsigned worker;
  int cpu;  // -1: unknown
  const TraceBuffer* buffer;
};

// What the file says about the run as a whole.
struct TraceRunInfo {
  long pid;
  const char* scheduler;  // "work_stealing", "round_robin"
  bool preempt;
  long long time_slice_us;
  std::size_t buffer_events;  // capacity of each ring
  std::uint64_t start_ticks;  // cycle counter at time 0 of the file
  double ticks_per_ns;
};

// Writes the whole file to `out`. Per track, events are sorted by time and
// no two share a timestamp (events recorded at the same tick are spread 1 ns
// apart, in the order they were recorded); every run slice is a B/E pair
// of one ULT, and an E whose B was overwritten in the ring is left out.
// Returns false when a write failed (errno says why).
bool write_chrome_trace(std::FILE* out, const TraceRunInfo& run,
                        const std::vector<TraceTrack>& tracks);

}  // namespace quanta::detail
