// quanta — x86_64: program counter and stack pointer of an interrupted context,
// read from the ucontext_t a SA_SIGINFO handler receives (used by preemption to
// decide whether the interrupted code is at a safe point).
#pragma once
#include <cstdint>
#include <ucontext.h>

namespace quanta::arch {

inline std::uintptr_t signal_pc(const ucontext_t* uc) noexcept {
  return static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
}
inline std::uintptr_t signal_sp(const ucontext_t* uc) noexcept {
  return static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]);
}

// The thread pointer (FS base) is not part of the signal frame: rt_sigreturn
// leaves it alone, so a ULT resumed on another worker keeps that worker's TLS.
inline void adopt_thread_pointer(ucontext_t*) noexcept {}

}  // namespace quanta::arch
