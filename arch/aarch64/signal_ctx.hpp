// quanta — aarch64: program counter and stack pointer of an interrupted context,
// read from the ucontext_t a SA_SIGINFO handler receives (used by preemption to
// decide whether the interrupted code is at a safe point).
#pragma once
#include <cstdint>
#include <ucontext.h>

namespace quanta::arch {

// glibc's aarch64 mcontext_t mirrors the kernel's struct sigcontext
// (fault_address, regs[31], sp, pc, pstate, ...); the fields are named pc and
// sp when __USE_MISC is on, which g++'s implicit _GNU_SOURCE guarantees.
inline std::uintptr_t signal_pc(const ucontext_t* uc) noexcept {
  return static_cast<std::uintptr_t>(uc->uc_mcontext.pc);
}
inline std::uintptr_t signal_sp(const ucontext_t* uc) noexcept {
  return static_cast<std::uintptr_t>(uc->uc_mcontext.sp);
}

// TPIDR_EL0 (the thread pointer) is not in the signal frame's general
// registers: rt_sigreturn leaves it alone, so a ULT resumed on another worker
// keeps that worker's TLS.
inline void adopt_thread_pointer(ucontext_t*) noexcept {}

}  // namespace quanta::arch
