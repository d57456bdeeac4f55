// quanta — riscv64 CPU helpers: cycle counter, spin hint, prefetch, cache line.
// Header-only, no dependency outside arch/.
#pragma once
#include <cstddef>
#include <cstdint>

namespace quanta::arch {

inline constexpr const char* kIsaName = "riscv64";

// Bytes per cache line: 64 on current RV64 application cores (the ISA does not
// fix it). 128 is the distance used to keep hot data apart, as on x86_64, for
// cores whose prefetchers pull in line pairs.
inline constexpr std::size_t kCacheLine = 64;
inline constexpr std::size_t kDestructiveInterference = 128;

// The `time` CSR (Zicntr `rdtime`): a constant-rate counter shared by all harts,
// ticking at the board's timebase frequency (devicetree "timebase-frequency",
// in the MHz range, e.g. 10 MHz on QEMU virt; not the core clock); the runtime
// calibrates ticks/ns. qemu-riscv64 (user mode) returns host ticks. Not
// `rdcycle`: since Linux 6.6 the cycle and instret CSRs are not readable from
// user mode by default (sysctl kernel.perf_user_access, where 2 restores the
// old behaviour), and rdcycle then raises SIGILL. On cores without a hardware
// time CSR the read traps to the firmware (OpenSBI), which emulates it, slowly.
inline std::uint64_t cycle_counter() noexcept {
  std::uint64_t t;
  asm volatile("rdtime %0" : "=r"(t));
  return t;
}

// Spin-wait hint: Zihintpause `pause`, which is FENCE with pred=W, succ=0,
// fm=0, rs1=rd=x0 (0x0100000f). Emitted with .insn so that no -march with
// _zihintpause is needed. A FENCE with an empty successor set orders nothing
// (the base ISA reserves such FENCEs as HINTs), so cores without Zihintpause
// execute it as a no-op: safe on every RV64GC core.
inline void cpu_relax() noexcept { asm volatile(".insn i 0x0F, 0, x0, x0, 0x010" ::: "memory"); }

// Prefetch for reading / for writing into all cache levels. With Zicbop in
// -march, compilers that implement it emit prefetch.r / prefetch.w (ORI hints,
// no-ops on cores without Zicbop); otherwise (and always with GCC 12) the
// builtin emits nothing.
inline void prefetch_read(const void* p) noexcept { __builtin_prefetch(p, 0, 3); }
inline void prefetch_write(const void* p) noexcept { __builtin_prefetch(p, 1, 3); }

}  // namespace quanta::arch
