// quanta — recording trace events (see hooks.hpp for where each runs).
#include "trace/hooks.hpp"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "arch/cpu.hpp"
#include "core/worker.hpp"
#include "trace/buffer.hpp"

namespace quanta::detail {
namespace {

TraceReason reason_of(const Worker& w, const Ult* prev) noexcept {
  switch (w.after) {
    case After::Preempted:
      return TraceReason::Preempt;
    case After::Park:
      // The preemption handler parks the ULT it preempts when it moves it
      // to another worker (preempt_migrate_for_testing).
      return prev->in_signal ? TraceReason::Preempt : TraceReason::Park;
    case After::Exit:
      return TraceReason::Exit;
    case After::Requeue:
    case After::None:  // only for w.self, which has no slice
      break;
  }
  return TraceReason::Yield;
}

// Every hook runs where the ULT `u` whose code called it (null: the worker's
// own context) cannot be preempted; a hook that did not could be
// interrupted by another hook of the same worker. Checked on every event (a
// relaxed load beside a cycle-counter read); reported with write(2) only,
// since trace_switch may run in the preemption handler.
void check_not_preemptible(const Ult* u, const char* hook) noexcept {
  if (u && u->no_preempt.load(std::memory_order_relaxed) == 0) [[unlikely]] {
    constexpr char kHead[] = "quanta: trace hook ";
    constexpr char kTail[] = " ran where its ULT may be preempted (outside a runtime section)\n";
    ssize_t ignored = ::write(STDERR_FILENO, kHead, sizeof kHead - 1);
    ignored = ::write(STDERR_FILENO, hook, std::strlen(hook));
    ignored = ::write(STDERR_FILENO, kTail, sizeof kTail - 1);
    static_cast<void>(ignored);
    std::abort();
  }
}

const Ult* running(const Worker& w) noexcept { return w.current == &w.self ? nullptr : w.current; }

// The id of the ULT running on w (0 on its own context).
std::uint64_t running_id(const Worker& w) noexcept {
  return w.current == &w.self ? 0 : w.current->id;
}

}  // namespace

void trace_switch(Worker& w, Ult* prev, Ult* next) noexcept {
  check_not_preemptible(prev != &w.self ? prev : nullptr, "trace_switch");
  TraceBuffer& b = *w.trace;
  // One reading for both: the end of one slice is the start of the next.
  const std::uint64_t now = arch::cycle_counter();
  if (prev != &w.self)
    b.record_at(now, TraceKind::RunEnd, prev->id, 0, static_cast<std::uint32_t>(reason_of(w, prev)));
  if (next != &w.self) b.record_at(now, TraceKind::RunBegin, next->id, 0, 0);
}

void trace_first_run(Worker& w, Ult* u) noexcept {
  check_not_preemptible(u, "trace_first_run");
  if (u->name) w.trace->add_name(u->id, u->name);
}

void trace_spawn(Worker& w, Ult* child) noexcept {
  check_not_preemptible(running(w), "trace_spawn");
  w.trace->record(TraceKind::Spawn, running_id(w), child->id);
}

void trace_wake(Worker* waker, Ult* u) noexcept {
  if (!waker || waker->rt != u->rt || !waker->trace) return;
  check_not_preemptible(running(*waker), "trace_wake");
  waker->trace->record(TraceKind::Wake, running_id(*waker), u->id);
}

void trace_timer_wake(Worker& w, Ult* u) noexcept {
  check_not_preemptible(running(w), "trace_timer_wake");
  w.trace->record(TraceKind::TimerWake, 0, u->id);
}

void trace_steal(Worker& thief, unsigned victim, std::size_t count) noexcept {
  check_not_preemptible(running(thief), "trace_steal");
  if (count != 0)
    thief.trace->record(TraceKind::Steal, 0, victim, static_cast<std::uint32_t>(count));
}

void trace_give(Worker& giver, unsigned to, std::size_t count) noexcept {
  check_not_preemptible(running(giver), "trace_give");
  giver.trace->record(TraceKind::Give, running_id(giver), to, static_cast<std::uint32_t>(count));
}

}  // namespace quanta::detail
