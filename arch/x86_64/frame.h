/* quanta — x86_64 (System V AMD64 ABI) context frame.
 *
 * Shared by switch.S and the C++ tests (checked in tests/unit/switch_registers_test.cpp) so that the
 * assembly and the C++ view of a saved context can never drift apart.
 *
 * A suspended context is a stack pointer `sp`; the frame lives at sp:
 *
 *   offset  size  slot
 *   0x00    4     MXCSR   (SSE control/status; only the control bits matter)
 *   0x04    2     x87 control word (precision + rounding)
 *   0x06    2     unused
 *   0x08    8     r12     (quanta_ctx_make: the entry argument)
 *   0x10    8     r13
 *   0x18    8     r14
 *   0x20    8     r15
 *   0x28    8     rbx     (quanta_ctx_make: the entry function)
 *   0x30    8     rbp
 *   0x38    8     resume address (pushed by the `call` into quanta_ctx_switch,
 *                 or the trampoline for a fresh context)
 *
 * QUANTA_FRAME_SIZE is what quanta_ctx_switch reserves below the return address.
 */
#ifndef QUANTA_ARCH_X86_64_FRAME_H
#define QUANTA_ARCH_X86_64_FRAME_H

#define QUANTA_FRAME_MXCSR 0x00
#define QUANTA_FRAME_X87CW 0x04
#define QUANTA_FRAME_R12   0x08
#define QUANTA_FRAME_R13   0x10
#define QUANTA_FRAME_R14   0x18
#define QUANTA_FRAME_R15   0x20
#define QUANTA_FRAME_RBX   0x28
#define QUANTA_FRAME_RBP   0x30
#define QUANTA_FRAME_PC    0x38
#define QUANTA_FRAME_SIZE  0x38

#endif
