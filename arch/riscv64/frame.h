/* quanta — riscv64 (RISC-V ELF psABI, LP64D) context frame.
 *
 * Shared by switch.S and the C++ tests (checked in tests/unit/switch_registers_test.cpp) so that the
 * assembly and the C++ view of a saved context can never drift apart.
 *
 * A suspended context is a stack pointer `sp`; the frame lives at sp:
 *
 *   offset  size  slot
 *   0x00    8     fcsr    (zero-extended; bits 7:5 frm, bits 4:0 fflags)
 *   0x08    8     fs0     (64-bit, fsd/fld: the whole D register)
 *   0x10    8     fs1
 *   0x18    8     fs2
 *   0x20    8     fs3
 *   0x28    8     fs4
 *   0x30    8     fs5
 *   0x38    8     fs6
 *   0x40    8     fs7
 *   0x48    8     fs8
 *   0x50    8     fs9
 *   0x58    8     fs10
 *   0x60    8     fs11
 *   0x68    8     s1      (quanta_ctx_make: the entry function)
 *   0x70    8     s2      (quanta_ctx_make: the entry argument)
 *   0x78    8     s3
 *   0x80    8     s4
 *   0x88    8     s5
 *   0x90    8     s6
 *   0x98    8     s7
 *   0xa0    8     s8
 *   0xa8    8     s9
 *   0xb0    8     s10
 *   0xb8    8     s11
 *   0xc0    8     s0/fp   (quanta_ctx_make: 0)
 *   0xc8    8     resume address: ra of the call into quanta_ctx_switch, or
 *                 the trampoline for a fresh context
 *
 * s0 and ra sit at the top, where a GCC/Clang prologue puts its frame record
 * (ra at CFA-8, previous fp at CFA-16), so a frame-pointer walk that starts
 * from a saved frame reads them where it expects them.
 *
 * Unlike x86_64, the return address is in a register (ra), not pushed by the
 * call, so it is part of the frame and QUANTA_FRAME_SIZE covers everything:
 * the saved stack pointer is the stack pointer at the call minus
 * QUANTA_FRAME_SIZE. QUANTA_FRAME_SIZE is a multiple of 16, the psABI stack
 * alignment, so both are 16-byte aligned.
 */
#ifndef QUANTA_ARCH_RISCV64_FRAME_H
#define QUANTA_ARCH_RISCV64_FRAME_H

#define QUANTA_FRAME_FCSR  0x00
#define QUANTA_FRAME_FS0   0x08
#define QUANTA_FRAME_FS1   0x10
#define QUANTA_FRAME_FS2   0x18
#define QUANTA_FRAME_FS3   0x20
#define QUANTA_FRAME_FS4   0x28
#define QUANTA_FRAME_FS5   0x30
#define QUANTA_FRAME_FS6   0x38
#define QUANTA_FRAME_FS7   0x40
#define QUANTA_FRAME_FS8   0x48
#define QUANTA_FRAME_FS9   0x50
#define QUANTA_FRAME_FS10  0x58
#define QUANTA_FRAME_FS11  0x60
#define QUANTA_FRAME_S1    0x68
#define QUANTA_FRAME_S2    0x70
#define QUANTA_FRAME_S3    0x78
#define QUANTA_FRAME_S4    0x80
#define QUANTA_FRAME_S5    0x88
#define QUANTA_FRAME_S6    0x90
#define QUANTA_FRAME_S7    0x98
#define QUANTA_FRAME_S8    0xa0
#define QUANTA_FRAME_S9    0xa8
#define QUANTA_FRAME_S10   0xb0
#define QUANTA_FRAME_S11   0xb8
#define QUANTA_FRAME_S0    0xc0
#define QUANTA_FRAME_PC    0xc8
#define QUANTA_FRAME_SIZE  0xd0

#endif
