// quanta — riscv64: program counter and stack pointer of an interrupted context,
// read from the ucontext_t a SA_SIGINFO handler receives (used by preemption to
// decide whether the interrupted code is at a safe point).
//
// glibc <sys/ucontext.h> for RISC-V: uc_mcontext.__gregs is indexed by x
// register number, except that slot 0 (x0 is hard-wired zero) holds the pc:
// REG_PC = 0, REG_SP = 2 (x2). The kernel's struct user_regs_struct has the
// same layout. The REG_* names need _GNU_SOURCE/_DEFAULT_SOURCE (__USE_MISC),
// which g++ defines by default.
#pragma once
#include <cstdint>
#include <ucontext.h>

namespace quanta::arch {

inline std::uintptr_t signal_pc(const ucontext_t* uc) noexcept {
  return static_cast<std::uintptr_t>(uc->uc_mcontext.__gregs[REG_PC]);
}
inline std::uintptr_t signal_sp(const ucontext_t* uc) noexcept {
  return static_cast<std::uintptr_t>(uc->uc_mcontext.__gregs[REG_SP]);
}

// tp (x4) *is* one of the general registers rt_sigreturn restores. A ULT
// preempted on one worker and resumed from its signal handler on another must
// return with the new worker's thread pointer, or it would run on the first
// worker's TLS: write the current tp into the frame.
inline void adopt_thread_pointer(ucontext_t* uc) noexcept {
  unsigned long tp;
  asm volatile("mv %0, tp" : "=r"(tp));
  uc->uc_mcontext.__gregs[REG_TP] = tp;
}

}  // namespace quanta::arch
