// quanta — aarch64 CPU helpers: cycle counter, spin hint, prefetch, cache line.
// Header-only, no dependency outside arch/.
#pragma once
#include <cstddef>
#include <cstdint>

namespace quanta::arch {

inline constexpr const char* kIsaName = "aarch64";

// Bytes per cache line on the Arm Neoverse / Cortex-A cores quanta targets.
// 128 is the distance that avoids false sharing in practice: Neoverse cores
// prefetch line pairs, and Apple cores use 128-byte lines. (A64FX has 256-byte
// lines, and GCC's std::hardware_destructive_interference_size is 256 for
// aarch64; quanta does not size for it.)
inline constexpr std::size_t kCacheLine = 64;
inline constexpr std::size_t kDestructiveInterference = 128;

// Virtual count of the Arm generic timer (CNTVCT_EL0). Not a CPU cycle count:
// it ticks at the constant rate cycle_counter_frequency(), the same on every
// core and in every power state; the runtime calibrates ticks/ns as it does
// with the x86_64 TSC. Linux lets user space read it (the vDSO clock uses it).
// The `isb` keeps the read from being performed ahead of the instructions that
// precede it (the counter read is not ordered by itself), as Linux does before
// reading it.
inline std::uint64_t cycle_counter() noexcept {
  std::uint64_t v;
  asm volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v)::"memory");
  return v;
}

// aarch64 only (x86_64 has no architectural equivalent): frequency of
// cycle_counter() in Hz, from CNTFRQ_EL0 as programmed by the firmware.
// Armv8.6 and later fix it at 1 GHz; earlier parts commonly use 1-100 MHz.
inline std::uint64_t cycle_counter_frequency() noexcept {
  std::uint64_t f;
  asm volatile("mrs %0, cntfrq_el0" : "=r"(f));
  return f;
}

// Spin-wait hint: `yield` tells a multithreaded core or a hypervisor that this
// thread is spinning. Many cores execute it as a NOP.
inline void cpu_relax() noexcept { asm volatile("yield" ::: "memory"); }

// Prefetch for reading / for writing into all cache levels (prfm pldl1keep /
// prfm pstl1keep).
inline void prefetch_read(const void* p) noexcept { __builtin_prefetch(p, 0, 3); }
inline void prefetch_write(const void* p) noexcept { __builtin_prefetch(p, 1, 3); }

}  // namespace quanta::arch
