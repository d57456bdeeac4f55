// quanta — x86_64 CPU helpers: cycle counter, spin hint, prefetch, cache line.
// Header-only, no dependency outside arch/.
#pragma once
#include <cstddef>
#include <cstdint>

namespace quanta::arch {

inline constexpr const char* kIsaName = "x86_64";

// Bytes per cache line on every x86_64 part quanta targets. Adjacent-line
// prefetch makes 128 the distance that avoids false sharing in practice.
inline constexpr std::size_t kCacheLine = 64;
inline constexpr std::size_t kDestructiveInterference = 128;

// Time-stamp counter. Invariant (constant rate, ticking in all C-states) on
// every CPU with constant_tsc + nonstop_tsc; the runtime calibrates ticks/ns.
inline std::uint64_t cycle_counter() noexcept {
  std::uint32_t lo, hi;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (std::uint64_t{hi} << 32) | lo;
}

// Spin-wait hint: lets the sibling hyperthread run and saves power.
inline void cpu_relax() noexcept { asm volatile("pause" ::: "memory"); }

// Prefetch for reading / for writing into all cache levels.
inline void prefetch_read(const void* p) noexcept { __builtin_prefetch(p, 0, 3); }
inline void prefetch_write(const void* p) noexcept { __builtin_prefetch(p, 1, 3); }

}  // namespace quanta::arch
