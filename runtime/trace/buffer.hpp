// quanta — one worker's trace: a ring of fixed-size events and the names of
// the ULTs it started (Config::trace_file, docs/tracing.md).
//
// Who touches it: the owning worker's thread records, always where it cannot
// be preempted (inside a runtime section, on the worker's own context, or in
// the preemption handler after it decided to switch; trace/hooks.hpp), so
// recording is never re-entered and needs no atomics. The writer reads it
// only after the worker's thread has been joined, which orders every record
// before the read.
//
// Memory: both parts are anonymous mappings made with MAP_NORESERVE, so the
// pages a worker never reaches cost nothing; a ring of the default 1 Mi
// events reserves 32 MiB of address space per worker.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "arch/cpu.hpp"

namespace quanta::detail {

enum class TraceKind : std::uint8_t {
  RunBegin,   // `ult` starts running
  RunEnd,     // `ult` stops running; aux = TraceReason
  Spawn,      // `ult` spawned arg (the child's id)
  Wake,       // `ult` (0: the worker's own context) made arg runnable
  TimerWake,  // a timer (sleep, timed wait) made arg runnable
  Steal,      // this worker took aux ULTs from worker arg (work stealing)
  Give,       // this worker handed aux ULTs to worker arg (round-robin balance)
};

// Why a run slice ended.
enum class TraceReason : std::uint8_t { Yield, Preempt, Park, Exit };

struct TraceEvent {
  std::uint64_t ticks;  // arch::cycle_counter()
  std::uint64_t ult;    // the ULT it is about; 0 for the worker's own context
  std::uint64_t arg;    // see TraceKind
  std::uint32_t aux;    // see TraceKind
  TraceKind kind;
};
static_assert(sizeof(TraceEvent) == 32, "a trace event is half a cache line");

class TraceBuffer {
 public:
  // Names longer than this are cut (at a byte boundary).
  static constexpr std::size_t kMaxName = 255;
  // Room for names per worker; once full, further names are not kept and
  // their ULTs' slices are named "ult <id>".
  static constexpr std::size_t kNameBytes = std::size_t{1} << 20;

  // Maps room for `capacity` events (>= 1). Throws ResourceError when the
  // system refuses the mapping.
  explicit TraceBuffer(std::size_t capacity);
  ~TraceBuffer();
  TraceBuffer(const TraceBuffer&) = delete;
  TraceBuffer& operator=(const TraceBuffer&) = delete;

  // --- the owning worker ---
  void record(TraceKind kind, std::uint64_t ult, std::uint64_t arg = 0,
              std::uint32_t aux = 0) noexcept {
    record_at(arch::cycle_counter(), kind, ult, arg, aux);
  }
  void record_at(std::uint64_t ticks, TraceKind kind, std::uint64_t ult, std::uint64_t arg,
                 std::uint32_t aux) noexcept {
    events_[next_] = TraceEvent{ticks, ult, arg, aux, kind};
    if (++next_ == capacity_) next_ = 0;
    ++total_;
  }
  // Keeps the name of ULT `id` (a NUL-terminated string).
  void add_name(std::uint64_t id, const char* name) noexcept;

  // --- after the worker stopped ---
  std::size_t capacity() const noexcept { return capacity_; }
  // Events recorded, and of those the ones overwritten by newer ones.
  std::uint64_t recorded() const noexcept { return total_; }
  std::uint64_t dropped() const noexcept { return total_ > capacity_ ? total_ - capacity_ : 0; }
  // The events still held, oldest first.
  std::vector<TraceEvent> events() const;
  // The names kept, in the order they were added.
  std::vector<std::pair<std::uint64_t, std::string>> names() const;

 private:
  TraceEvent* events_ = nullptr;
  std::size_t capacity_;
  std::size_t next_ = 0;     // where the next event goes
  std::uint64_t total_ = 0;  // events recorded so far
  unsigned char* names_ = nullptr;
  std::size_t names_used_ = 0;
};

}  // namespace quanta::detail
