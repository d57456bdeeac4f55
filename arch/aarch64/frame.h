/* quanta — aarch64 (AAPCS64) context frame.
 *
 * ABI: "Procedure Call Standard for the Arm 64-bit Architecture" (AAPCS64),
 * section 6.1.1 "General-purpose Registers" and section 6.1.2 "SIMD and
 * Floating-Point Registers". Callee-saved and therefore in the frame:
 *   x19-x28, x29 (fp), x30 (lr: the resume address), sp (the frame's own
 *   address), d8-d15 (the low 64 bits of v8-v15; only these must be preserved),
 *   FPCR (per context by quanta's choice, see switch.S).
 *
 * Shared by switch.S and the C++ tests (checked in tests/unit/switch_registers_test.cpp) so that the
 * assembly and the C++ view of a saved context can never drift apart.
 *
 * A suspended context is a stack pointer `sp`; the frame lives at sp:
 *
 *   offset  size  slot
 *   0x00    8     x29     (quanta_ctx_make: 0, ends frame-pointer walks)
 *   0x08    8     x30     resume address (the return address of the `bl` into
 *                         quanta_ctx_switch, or the trampoline for a fresh context)
 *   0x10    8     x19     (quanta_ctx_make: the entry function)
 *   0x18    8     x20     (quanta_ctx_make: the entry argument)
 *   0x20    8     x21
 *   0x28    8     x22
 *   0x30    8     x23
 *   0x38    8     x24
 *   0x40    8     x25
 *   0x48    8     x26
 *   0x50    8     x27
 *   0x58    8     x28
 *   0x60    8     d8
 *   0x68    8     d9
 *   0x70    8     d10
 *   0x78    8     d11
 *   0x80    8     d12
 *   0x88    8     d13
 *   0x90    8     d14
 *   0x98    8     d15
 *   0xa0    8     FPCR
 *   0xa8    8     unused (keeps the size a multiple of 16)
 *
 * x29/x30 sit at offset 0 in the order of an AAPCS64 frame record, so sp of a
 * suspended context points at a valid frame record {caller fp, resume pc}.
 * Every pair is 16-byte aligned for stp/ldp; the ldp/stp immediates (at most
 * 0xa0) are far inside their range (-512..504 for 64-bit registers).
 *
 * QUANTA_FRAME_SIZE is what quanta_ctx_switch reserves below the caller's sp;
 * a multiple of 16, so sp stays 16-byte aligned as the architecture requires
 * for every sp-based access.
 */
#ifndef QUANTA_ARCH_AARCH64_FRAME_H
#define QUANTA_ARCH_AARCH64_FRAME_H

#define QUANTA_FRAME_X29   0x00
#define QUANTA_FRAME_X30   0x08
#define QUANTA_FRAME_X19   0x10
#define QUANTA_FRAME_X20   0x18
#define QUANTA_FRAME_X21   0x20
#define QUANTA_FRAME_X22   0x28
#define QUANTA_FRAME_X23   0x30
#define QUANTA_FRAME_X24   0x38
#define QUANTA_FRAME_X25   0x40
#define QUANTA_FRAME_X26   0x48
#define QUANTA_FRAME_X27   0x50
#define QUANTA_FRAME_X28   0x58
#define QUANTA_FRAME_D8    0x60
#define QUANTA_FRAME_D9    0x68
#define QUANTA_FRAME_D10   0x70
#define QUANTA_FRAME_D11   0x78
#define QUANTA_FRAME_D12   0x80
#define QUANTA_FRAME_D13   0x88
#define QUANTA_FRAME_D14   0x90
#define QUANTA_FRAME_D15   0x98
#define QUANTA_FRAME_FPCR  0xa0
#define QUANTA_FRAME_PC    QUANTA_FRAME_X30 /* same name as x86_64: the resume address */
#define QUANTA_FRAME_SIZE  0xb0

#endif
