/* quanta — riscv64 cooperative context switch and first-entry trampoline.
 *
 * ABI: RISC-V ELF psABI, "RISC-V Calling Conventions": "Register Convention"
 * (tables "Integer register convention" and "Floating-point register
 * convention") and "Procedure Calling Convention" ("Integer Calling
 * Convention", "Hardware Floating-Point Calling Convention"), for the LP64D
 * named ABI (XLEN = 64, ABI_FLEN = 64). Saved here:
 *   s0-s11 (x8, x9, x18-x27) and sp: "Registers s0-s11 shall be preserved
 *     across procedure calls"; sp is marked preserved in the table.
 *   fs0-fs11 (f8, f9, f18-f27), all 64 bits (fsd/fld): "Floating-point
 *     registers fs0-fs11 shall be preserved across procedure calls, provided
 *     they hold values no more than ABI_FLEN bits wide"; ABI_FLEN is 64 for
 *     LP64D.
 *   ra, as the resume address (ra itself is not preserved across calls).
 *   fcsr (frm rounding mode and fflags accrued exceptions). The psABI does not
 *     list fcsr as callee- or caller-saved; it says "The Floating-Point Control
 *     and Status Register (fcsr) must have thread storage duration in
 *     accordance with C11 section 7.6 'Floating-point environment <fenv.h>'".
 *     Every quanta context is a thread of control with its own floating-point
 *     environment, so the whole fcsr travels with the context: a context that
 *     calls fesetround() keeps its rounding mode across switches and
 *     migrations, and fetestexcept() sees only the flags it raised itself.
 * Not saved:
 *   t0-t6, a0-a7, ft0-ft11, fa0-fa7: temporaries/arguments; the compiler
 *     already assumes a call to quanta_ctx_switch destroys them.
 *   gp, tp: "Unallocatable"; procedures must not modify them. gp is the same
 *     in every context of the process; tp belongs to the kernel thread (its
 *     TLS block), so a context resumed on another kernel thread must see that
 *     thread's tp, as with the fs base on x86_64.
 *   v0-v31, vl, vtype, vxrm, vxsat: not preserved across calls in the standard
 *     calling convention, which is the one quanta_ctx_switch has ("vstart" is
 *     zero at any call, so it needs no saving either).
 * The frame layout is in frame.h.
 *
 * Control-flow integrity (Zicfilp landing pads, Zicfiss shadow stack) is not
 * supported: there are no lpad instructions and this object carries no GNU
 * property note, so the linker marks the program as not CFI capable.
 */
#include "frame.h"

    .file "switch.S"
    .text

/* void quanta_ctx_switch(void **save_sp [a0], void *load_sp [a1])
 * CFI: after the stores, every saved register is described at its slot. That
 * stays true after the stack switch (the slots then hold the values of the
 * context being resumed), so unwinding is consistent at every instruction;
 * .cfi_restore_state goes back to the entry rule once the frame is dropped. */
    .globl  quanta_ctx_switch
    .hidden quanta_ctx_switch
    .type   quanta_ctx_switch, @function
    .p2align 4
quanta_ctx_switch:
    .cfi_startproc
    .cfi_remember_state
    addi    sp, sp, -QUANTA_FRAME_SIZE              /* room for the frame */
    .cfi_def_cfa_offset QUANTA_FRAME_SIZE
    sd      ra, QUANTA_FRAME_PC(sp)                 /* save resume address */
    sd      s0, QUANTA_FRAME_S0(sp)                 /* save s0-s11 */
    sd      s1, QUANTA_FRAME_S1(sp)
    sd      s2, QUANTA_FRAME_S2(sp)
    sd      s3, QUANTA_FRAME_S3(sp)
    sd      s4, QUANTA_FRAME_S4(sp)
    sd      s5, QUANTA_FRAME_S5(sp)
    sd      s6, QUANTA_FRAME_S6(sp)
    sd      s7, QUANTA_FRAME_S7(sp)
    sd      s8, QUANTA_FRAME_S8(sp)
    sd      s9, QUANTA_FRAME_S9(sp)
    sd      s10, QUANTA_FRAME_S10(sp)
    sd      s11, QUANTA_FRAME_S11(sp)
    fsd     fs0, QUANTA_FRAME_FS0(sp)               /* save fs0-fs11 */
    fsd     fs1, QUANTA_FRAME_FS1(sp)
    fsd     fs2, QUANTA_FRAME_FS2(sp)
    fsd     fs3, QUANTA_FRAME_FS3(sp)
    fsd     fs4, QUANTA_FRAME_FS4(sp)
    fsd     fs5, QUANTA_FRAME_FS5(sp)
    fsd     fs6, QUANTA_FRAME_FS6(sp)
    fsd     fs7, QUANTA_FRAME_FS7(sp)
    fsd     fs8, QUANTA_FRAME_FS8(sp)
    fsd     fs9, QUANTA_FRAME_FS9(sp)
    fsd     fs10, QUANTA_FRAME_FS10(sp)
    fsd     fs11, QUANTA_FRAME_FS11(sp)
    frcsr   t0                                      /* save fcsr */
    sd      t0, QUANTA_FRAME_FCSR(sp)
    .cfi_rel_offset ra, QUANTA_FRAME_PC
    .cfi_rel_offset s0, QUANTA_FRAME_S0
    .cfi_rel_offset s1, QUANTA_FRAME_S1
    .cfi_rel_offset s2, QUANTA_FRAME_S2
    .cfi_rel_offset s3, QUANTA_FRAME_S3
    .cfi_rel_offset s4, QUANTA_FRAME_S4
    .cfi_rel_offset s5, QUANTA_FRAME_S5
    .cfi_rel_offset s6, QUANTA_FRAME_S6
    .cfi_rel_offset s7, QUANTA_FRAME_S7
    .cfi_rel_offset s8, QUANTA_FRAME_S8
    .cfi_rel_offset s9, QUANTA_FRAME_S9
    .cfi_rel_offset s10, QUANTA_FRAME_S10
    .cfi_rel_offset s11, QUANTA_FRAME_S11
    .cfi_rel_offset fs0, QUANTA_FRAME_FS0
    .cfi_rel_offset fs1, QUANTA_FRAME_FS1
    .cfi_rel_offset fs2, QUANTA_FRAME_FS2
    .cfi_rel_offset fs3, QUANTA_FRAME_FS3
    .cfi_rel_offset fs4, QUANTA_FRAME_FS4
    .cfi_rel_offset fs5, QUANTA_FRAME_FS5
    .cfi_rel_offset fs6, QUANTA_FRAME_FS6
    .cfi_rel_offset fs7, QUANTA_FRAME_FS7
    .cfi_rel_offset fs8, QUANTA_FRAME_FS8
    .cfi_rel_offset fs9, QUANTA_FRAME_FS9
    .cfi_rel_offset fs10, QUANTA_FRAME_FS10
    .cfi_rel_offset fs11, QUANTA_FRAME_FS11
    sd      sp, 0(a0)                               /* *save_sp = sp */

    mv      sp, a1                                  /* switch stacks */
    ld      t0, QUANTA_FRAME_FCSR(sp)               /* restore fcsr */
    fscsr   t0
    fld     fs0, QUANTA_FRAME_FS0(sp)               /* restore fs0-fs11 */
    fld     fs1, QUANTA_FRAME_FS1(sp)
    fld     fs2, QUANTA_FRAME_FS2(sp)
    fld     fs3, QUANTA_FRAME_FS3(sp)
    fld     fs4, QUANTA_FRAME_FS4(sp)
    fld     fs5, QUANTA_FRAME_FS5(sp)
    fld     fs6, QUANTA_FRAME_FS6(sp)
    fld     fs7, QUANTA_FRAME_FS7(sp)
    fld     fs8, QUANTA_FRAME_FS8(sp)
    fld     fs9, QUANTA_FRAME_FS9(sp)
    fld     fs10, QUANTA_FRAME_FS10(sp)
    fld     fs11, QUANTA_FRAME_FS11(sp)
    ld      s0, QUANTA_FRAME_S0(sp)                 /* restore s0-s11 */
    ld      s1, QUANTA_FRAME_S1(sp)
    ld      s2, QUANTA_FRAME_S2(sp)
    ld      s3, QUANTA_FRAME_S3(sp)
    ld      s4, QUANTA_FRAME_S4(sp)
    ld      s5, QUANTA_FRAME_S5(sp)
    ld      s6, QUANTA_FRAME_S6(sp)
    ld      s7, QUANTA_FRAME_S7(sp)
    ld      s8, QUANTA_FRAME_S8(sp)
    ld      s9, QUANTA_FRAME_S9(sp)
    ld      s10, QUANTA_FRAME_S10(sp)
    ld      s11, QUANTA_FRAME_S11(sp)
    ld      ra, QUANTA_FRAME_PC(sp)                 /* restore resume address */
    addi    sp, sp, QUANTA_FRAME_SIZE               /* drop the frame */
    .cfi_restore_state
    ret                                             /* resume at ra */
    .cfi_endproc
    .size   quanta_ctx_switch, .-quanta_ctx_switch

/* void *quanta_ctx_make(void *stack_top [a0], void (*entry)(void *) [a1],
 *                       void *arg [a2])
 * Builds a frame whose resume address is the trampoline, with entry in s1,
 * arg in s2, s0 = 0, every other saved register 0, and the caller's fcsr.
 * The trampoline starts with sp = stack_top aligned down to 16, as the psABI
 * wants at a call ("the stack pointer shall be aligned to a 128-bit boundary
 * upon procedure entry"). */
    .globl  quanta_ctx_make
    .hidden quanta_ctx_make
    .type   quanta_ctx_make, @function
    .p2align 4
quanta_ctx_make:
    .cfi_startproc
    andi    a0, a0, -16                             /* align the top */
    addi    a0, a0, -QUANTA_FRAME_SIZE              /* the whole frame, ra included */
    frcsr   t0
    sd      t0, QUANTA_FRAME_FCSR(a0)               /* inherit fcsr */
    sd      zero, QUANTA_FRAME_FS0(a0)              /* fs0-fs11 = +0.0 */
    sd      zero, QUANTA_FRAME_FS1(a0)
    sd      zero, QUANTA_FRAME_FS2(a0)
    sd      zero, QUANTA_FRAME_FS3(a0)
    sd      zero, QUANTA_FRAME_FS4(a0)
    sd      zero, QUANTA_FRAME_FS5(a0)
    sd      zero, QUANTA_FRAME_FS6(a0)
    sd      zero, QUANTA_FRAME_FS7(a0)
    sd      zero, QUANTA_FRAME_FS8(a0)
    sd      zero, QUANTA_FRAME_FS9(a0)
    sd      zero, QUANTA_FRAME_FS10(a0)
    sd      zero, QUANTA_FRAME_FS11(a0)
    sd      a1, QUANTA_FRAME_S1(a0)                 /* s1 = entry */
    sd      a2, QUANTA_FRAME_S2(a0)                 /* s2 = arg */
    sd      zero, QUANTA_FRAME_S3(a0)
    sd      zero, QUANTA_FRAME_S4(a0)
    sd      zero, QUANTA_FRAME_S5(a0)
    sd      zero, QUANTA_FRAME_S6(a0)
    sd      zero, QUANTA_FRAME_S7(a0)
    sd      zero, QUANTA_FRAME_S8(a0)
    sd      zero, QUANTA_FRAME_S9(a0)
    sd      zero, QUANTA_FRAME_S10(a0)
    sd      zero, QUANTA_FRAME_S11(a0)
    sd      zero, QUANTA_FRAME_S0(a0)               /* s0 = 0 ends frame-pointer walks */
    lla     t0, quanta_ctx_trampoline
    sd      t0, QUANTA_FRAME_PC(a0)                 /* resume in the trampoline */
    ret
    .cfi_endproc
    .size   quanta_ctx_make, .-quanta_ctx_make

/* First code a fresh context runs: entry(arg). entry never returns; if it
 * does, trap (`unimp`, SIGILL) rather than run off into whatever follows.
 * `.cfi_undefined ra` tells unwinders (gdb, libgcc) that the call chain ends. */
    .globl  quanta_ctx_trampoline
    .hidden quanta_ctx_trampoline
    .type   quanta_ctx_trampoline, @function
    .p2align 4
quanta_ctx_trampoline:
    .cfi_startproc
    .cfi_undefined ra
    mv      a0, s2                                  /* first argument */
    jalr    s1                                      /* entry(arg) */
    unimp                                           /* entry returned: a bug */
    .cfi_endproc
    .size   quanta_ctx_trampoline, .-quanta_ctx_trampoline

    .section .note.GNU-stack, "", %progbits
