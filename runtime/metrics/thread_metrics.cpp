// quanta — ThreadMetrics: what one ULT has done, found by id through the
// stack directory (stack/stack_directory.hpp) or read by the ULT itself.
#include <atomic>
#include <cstring>

#include "arch/cpu.hpp"
#include "core/no_preempt.hpp"
#include "core/ult.hpp"
#include "core/worker.hpp"
#include "metrics/registry.hpp"
#include "metrics/thread_profile.hpp"
#include "quanta/error.hpp"
#include "quanta/metrics.hpp"
#include "stack/stack_directory.hpp"

namespace quanta {
namespace {

using detail::Ult;

// Longest name copied; the rest is cut.
constexpr std::size_t kMaxName = 256;

std::uint64_t id_of(const Ult* u) noexcept {
  // The block may be reused by a new spawn while this reads it: never a
  // torn value (an aligned word) and never a reused id, so a match is exact.
  return std::atomic_ref<const std::uint64_t>(u->id).load(std::memory_order_relaxed);
}

std::chrono::nanoseconds to_ns(std::uint64_t ticks, double rate) {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(ticks) / rate));
}

// Reads u; `self` is the calling ULT's worker when u is the caller (its run
// in progress then includes the hardware counts so far).
ThreadMetrics read(const Ult* u, std::uint64_t id, detail::Worker* self) {
  ThreadMetrics m;
  m.id = id;
  if (const char* name = u->name) m.name.assign(name, strnlen(name, kMaxName));
  m.finished = u->done.load(std::memory_order_acquire) != 0;
  m.switches = u->runs.load(std::memory_order_relaxed);
  m.preemptions = u->preempt_taken.load(std::memory_order_relaxed);
  const std::uint8_t observe = u->observe;
  if (observe & detail::kObserveTime) {
    const double rate = detail::ticks_per_ns();
    const std::uint64_t now = arch::cycle_counter();
    std::uint64_t run = u->run_ticks.load(std::memory_order_relaxed);
    const std::uint64_t since = u->run_since.load(std::memory_order_relaxed);
    if (since != 0 && now > since) run += now - since;
    const std::uint64_t age = now > u->born_ticks ? now - u->born_ticks : 0;
    m.run_time = to_ns(run, rate);
    m.age = to_ns(age, rate);
    m.cpu_utilization = age > 0 ? static_cast<double>(std::min(run, age)) / static_cast<double>(age)
                                : 0.0;
  }
  m.profiled = (observe & detail::kObserveHw) != 0;
  if (m.profiled && u->profile) {
    std::uint64_t v[detail::kProfileEvents] = {};
    const std::uint32_t mask = detail::profile_read(u, self, v);
    std::optional<std::uint64_t>* fields[detail::kProfileEvents] = {
        &m.hardware.cycles, &m.hardware.instructions, &m.hardware.cache_misses,
        &m.hardware.branch_misses, &m.hardware.page_faults};
    for (unsigned i = 0; i < detail::kProfileEvents; ++i)
      if (mask & (1u << i)) *fields[i] = v[i];
    m.hardware.unavailable =
        detail::profile_unavailable(mask, u->profile->ran.load(std::memory_order_relaxed));
  } else if (m.profiled) {
    m.hardware.unavailable = "no memory for the ULT's counters when it was spawned";
  } else {
    m.hardware.unavailable = "not profiled: spawn it with ThreadBuilder::profiling(true)";
  }
  return m;
}

}  // namespace

std::optional<ThreadMetrics> ThreadMetrics::for_thread(std::uint64_t id) {
  std::optional<ThreadMetrics> out;
  if (id == 0) return out;  // "no ULT" (this_thread::id() on a kernel thread)
  auto& dir = detail::StackDirectory::instance();
  dir.scan([&](Ult* u) {
    if (id_of(u) != id) return false;
    ThreadMetrics m = read(u, id, nullptr);
    // Still the same ULT? Then what was read was its own.
    std::atomic_thread_fence(std::memory_order_acquire);
    if (!dir.holds(u->stack.slot, u) || id_of(u) != id) return true;  // released meanwhile
    out = std::move(m);
    return true;
  });
  return out;
}

ThreadMetrics ThreadMetrics::current() {
  detail::RuntimeSection section;  // not moved while its run is read
  Ult* u = section.ult();
  if (!u) {
    throw UsageError(
        "quanta: ThreadMetrics::current() was called from a kernel thread; expected a call "
        "from a ULT (use ThreadMetrics::for_thread(id) from outside)");
  }
  return read(u, u->id, section.worker());
}

}  // namespace quanta
