// quanta — which program counters may be preempted.
//
// A preemption may only switch a ULT out when the interrupted instruction is
// in code that holds no lock or thread-bound state the runtime does not know
// about. quanta allows the main executable's code (the application, and the
// runtime itself, whose own critical code is guarded by RuntimeSection) and,
// on request, other loaded objects; it never allows libc, libstdc++, the
// dynamic linker or the vDSO, since e.g. malloc's arena locks are
// kernel-thread locks: switching away while one is held and running another
// ULT that calls malloc on the same thread would deadlock.
//
// The ranges live in a fixed array, appended under a mutex and published with
// a release store of the count, so the signal handler reads them without
// locks (async-signal-safe).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace quanta::detail {

// Adds the main executable's code; idempotent.
void init_safe_points();

// Adds the executable segments of loaded objects whose path contains
// `fragment`; returns how many objects matched.
unsigned add_safe_objects(std::string_view fragment);

// Async-signal-safe.
bool preemptible_pc(std::uintptr_t pc) noexcept;

}  // namespace quanta::detail
