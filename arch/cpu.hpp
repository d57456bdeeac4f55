// quanta — the CPU helpers of the ISA being compiled for. Code outside arch/
// includes this, never arch/<isa>/ directly.
#pragma once
#if defined(__x86_64__)
#include "x86_64/cpu.hpp"
#elif defined(__aarch64__)
#include "aarch64/cpu.hpp"
#elif defined(__riscv) && __riscv_xlen == 64
#include "riscv64/cpu.hpp"
#else
#error "quanta supports x86_64, aarch64 and riscv64; see docs/porting.md to add an ISA"
#endif
