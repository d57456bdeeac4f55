// quanta — profiles: preset configurations (Config::profile, QUANTA_PROFILE).
// docs/api.md ("Profiles") has the same table; keep the two in step.
#include <sched.h>

#include <algorithm>
#include <array>
#include <string>

#include "quanta/config.hpp"
#include "quanta/error.hpp"
#include "quanta/tune.hpp"

namespace quanta {
namespace {

struct Named {
  Profile profile;
  std::string_view name;
};
constexpr std::array<Named, 4> kNames{{
    {Profile::Latency, "latency"},
    {Profile::Throughput, "throughput"},
    {Profile::MemoryConstrained, "memory_constrained"},
    {Profile::CpuConstrained, "cpu_constrained"},
}};

// The CPUs the process may run on (what workers = 0 resolves to), at least 1.
unsigned allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  const int n = CPU_COUNT(&set);
  return n > 0 ? static_cast<unsigned>(n) : 1u;
}

}  // namespace

namespace tune {

std::string_view profile_name(Profile p) noexcept {
  for (const Named& n : kNames)
    if (n.profile == p) return n.name;
  return {};
}

std::optional<Profile> profile_from_name(std::string_view name) noexcept {
  for (const Named& n : kNames)
    if (n.name == name) return n.profile;
  return std::nullopt;
}

}  // namespace tune

Config Config::profile(Profile p) {
  Config c;
  switch (p) {
    case Profile::Latency:
      // Preemption on: without it the slice means nothing.
      c.preempt = true;
      // A spinning ULT gives its worker up after 200-300 us instead of
      // 1-1.5 ms, so a ULT that becomes ready waits at most that long.
      c.time_slice = std::chrono::microseconds(200);
      // An idle worker takes a waiting ULT instead of leaving it queued
      // behind a busy worker.
      c.scheduler = SchedulerKind::WorkStealing;
      // One worker per CPU: every CPU can run a ULT as soon as it is ready.
      c.workers = 0;
      return c;
    case Profile::Throughput:
      // 10x fewer preemptions than the default: each costs a signal, a
      // switch and cache refills; a spinner still cannot hold a worker for
      // more than ~15 ms.
      c.time_slice = std::chrono::microseconds(10'000);
      c.preempt = true;
      // Idle workers steal half a busy worker's queue: all CPUs stay busy;
      // the newest ULT runs next (depth-first, warm caches).
      c.scheduler = SchedulerKind::WorkStealing;
      c.workers = 0;
      return c;
    case Profile::MemoryConstrained:
      // A quarter of the default stack: 4x more ULTs per MiB of stacks. The
      // minimum still holds a preemption's signal frame and shallow calls.
      c.stack_size = kMinStackSize;
      // Guard pages while mappings last, then canary stacks packed together
      // (fewer mappings); both detect an overflow.
      c.stack_guard = StackGuard::Auto;
      // Depth-first: a fork-join program keeps few ULTs (and stacks) alive.
      c.scheduler = SchedulerKind::WorkStealing;
      c.workers = 0;
      return c;
    case Profile::CpuConstrained:
      // Half the CPUs the process may run on (at least 1): the rest stay
      // free for the other processes sharing the machine.
      c.workers = std::max(1u, allowed_cpus() / 2);
      // The monitor samples every half slice while ULTs wait: a 10 ms slice
      // wakes it (and signals workers) 10x less often than the default.
      c.time_slice = std::chrono::microseconds(10'000);
      c.preempt = true;
      // No stealing: a worker is never woken only to search the others'
      // queues; each runs the ULTs dealt to it.
      c.scheduler = SchedulerKind::RoundRobin;
      return c;
  }
  throw ConfigError("quanta: Config::profile(" + std::to_string(static_cast<int>(p)) +
                    "): not a Profile; expected Latency, Throughput, MemoryConstrained or "
                    "CpuConstrained");
}

}  // namespace quanta
