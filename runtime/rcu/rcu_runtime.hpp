// quanta — what the rest of the runtime tells Rcu (runtime/rcu/rcu.cpp), and
// the one check it makes for it.
//
// Grace-period detection reads the workers of every live Runtime, so each
// Runtime registers itself once its workers exist (before any of its ULTs
// can run) and unregisters once its worker threads have been joined.
#pragma once

namespace quanta::detail {

struct RuntimeCore;
struct Ult;

void rcu_register_runtime(RuntimeCore* rt);
void rcu_unregister_runtime(RuntimeCore* rt) noexcept;

// A ULT inside an Rcu read section (Ult::rcu_read_depth > 0, counted by
// checked guards) tried to `what` (yield, park): print why and abort.
[[noreturn]] void rcu_switch_in_read_section(const Ult* u, const char* what) noexcept;

// How the grace-period detection orders the workers' switches with readers.
// Membarrier: readers on ULTs use compiler barriers only and writers issue
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), a full fence on every thread
// of the process, around their scan of the workers. Fences: the kernel does
// not offer that; readers on ULTs then fence on entry and exit. Chosen once,
// when the first Runtime registers.
enum class RcuOrdering : int { Unknown = 0, Membarrier = 1, Fences = 2 };
RcuOrdering rcu_ordering() noexcept;
// Tests: use `o` from now on. Only while no Runtime exists.
void rcu_set_ordering_for_testing(RcuOrdering o) noexcept;

}  // namespace quanta::detail
