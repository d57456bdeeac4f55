/* quanta — aarch64 cooperative context switch and first-entry trampoline.
 *
 * ABI: "Procedure Call Standard for the Arm 64-bit Architecture" (AAPCS64),
 * section 6.1.1 "General-purpose Registers" and section 6.1.2 "SIMD and
 * Floating-Point Registers". Callee-saved and therefore saved here:
 *   x19-x28, x29 (fp), x30 (lr, the resume address), sp,
 *   d8-d15 ("only the bottom 64 bits of each value stored in v8-v15 need to be
 *   preserved"),
 *   FPCR.
 * FPCR is not callee-saved in AAPCS64: it is "a global register" whose
 * rounding-mode, flush-to-zero and trap-enable bits only specific support
 * functions (fesetround, fesetenv...) modify. quanta keeps it per context, as
 * the x86_64 port does with the MXCSR/x87 control bits, so that a context that
 * changes its rounding mode does not change it for every other context run by
 * the same thread. FPSR (cumulative exception flags) "may have any value on
 * entry to a subroutine" and is not saved.
 * Everything else (x0-x18, v0-v7, v16-v31, the upper 64 bits of v8-v15,
 * SVE z/p/ffr state, NZCV) is caller-saved: the compiler already assumes a call
 * to quanta_ctx_switch destroys it, so saving it would be wasted work.
 * x18 is an ordinary temporary on Linux; a shadow call stack
 * (-fsanitize=shadow-call-stack keeps its pointer in x18) is not supported.
 * SME state (PSTATE.SM, ZA, TPIDR2_EL0) is not handled: quanta_ctx_switch is an
 * ordinary non-streaming, private-ZA function.
 * The frame layout is in frame.h.
 *
 * Branch protection: when the compiler targets BTI (__ARM_FEATURE_BTI_DEFAULT,
 * set by -mbranch-protection=bti or =standard) each function that is called
 * starts with `bti c` (emitted as `hint #34`, a NOP on cores without BTI) and the
 * object carries a GNU property note marking it BTI-compatible. The trampoline
 * (global only so that tests can find it) needs no landing pad: it is only
 * ever reached by `ret`, which BTI does not check. Return addresses are not signed (no PAC): the resume address in a
 * frame is x30 exactly as the caller's `bl` left it, and the property note
 * does not claim PAC.
 */
#include "frame.h"

#if defined(__ARM_FEATURE_BTI_DEFAULT)
#define QUANTA_BTI_C hint #34 /* bti c */
#else
#define QUANTA_BTI_C
#endif

    .file "switch.S"
    .text

/* void quanta_ctx_switch(void **save_sp [x0], void *load_sp [x1])
 *
 * Resumes with `ret`, not `br x30`:
 *  - under BTI, `br x30` must land on a `bti j`, and the resume address of a
 *    suspended context (the instruction after its `bl quanta_ctx_switch`) is
 *    not one; `ret` is not checked;
 *  - `ret` pops the return-stack predictor entry pushed by the caller's `bl`,
 *    which predicts correctly whenever both contexts switched from the same
 *    call site (the usual case: a scheduler's single switch point); `br x30`
 *    would leave that entry behind and skew every later return prediction.
 *
 * *save_sp is written with a store-release (stlr), so a thread that reads it
 * with acquire semantics also sees the frame stored before it. This matches
 * what a plain store gives on x86_64 and lets the runtime hand a suspended
 * context to another thread through that slot.
 *
 * FPCR is written only when the incoming value differs from the current one
 * (the common case is that all contexts share one FPCR): reading it is cheap,
 * writing it can be costly on out-of-order cores, and glibc's
 * fesetenv/feupdateenv skip an unchanged write the same way. */
    .globl  quanta_ctx_switch
    .hidden quanta_ctx_switch
    .type   quanta_ctx_switch, %function
    .p2align 4
quanta_ctx_switch:
    .cfi_startproc
    QUANTA_BTI_C
    stp     x29, x30, [sp, #-QUANTA_FRAME_SIZE]!    /* room for the frame; save fp, lr */
    .cfi_def_cfa_offset QUANTA_FRAME_SIZE
    .cfi_offset x29, QUANTA_FRAME_X29 - QUANTA_FRAME_SIZE
    .cfi_offset x30, QUANTA_FRAME_X30 - QUANTA_FRAME_SIZE
    stp     x19, x20, [sp, #QUANTA_FRAME_X19]       /* save x19, x20 */
    stp     x21, x22, [sp, #QUANTA_FRAME_X21]       /* save x21, x22 */
    stp     x23, x24, [sp, #QUANTA_FRAME_X23]       /* save x23, x24 */
    stp     x25, x26, [sp, #QUANTA_FRAME_X25]       /* save x25, x26 */
    stp     x27, x28, [sp, #QUANTA_FRAME_X27]       /* save x27, x28 */
    stp     d8,  d9,  [sp, #QUANTA_FRAME_D8]        /* save d8, d9 */
    stp     d10, d11, [sp, #QUANTA_FRAME_D10]       /* save d10, d11 */
    stp     d12, d13, [sp, #QUANTA_FRAME_D12]       /* save d12, d13 */
    stp     d14, d15, [sp, #QUANTA_FRAME_D14]       /* save d14, d15 */
    mrs     x9, fpcr
    str     x9, [sp, #QUANTA_FRAME_FPCR]            /* save FPCR (x9 kept for the compare) */
    mov     x10, sp
    stlr    x10, [x0]                               /* *save_sp = sp, release */

    mov     sp, x1                                  /* switch stacks */
    ldr     x10, [sp, #QUANTA_FRAME_FPCR]
    cmp     x9, x10
    b.eq    1f
    msr     fpcr, x10                               /* restore FPCR if it differs */
1:  ldp     d8,  d9,  [sp, #QUANTA_FRAME_D8]        /* restore d8, d9 */
    ldp     d10, d11, [sp, #QUANTA_FRAME_D10]       /* restore d10, d11 */
    ldp     d12, d13, [sp, #QUANTA_FRAME_D12]       /* restore d12, d13 */
    ldp     d14, d15, [sp, #QUANTA_FRAME_D14]       /* restore d14, d15 */
    ldp     x19, x20, [sp, #QUANTA_FRAME_X19]       /* restore x19, x20 */
    ldp     x21, x22, [sp, #QUANTA_FRAME_X21]       /* restore x21, x22 */
    ldp     x23, x24, [sp, #QUANTA_FRAME_X23]       /* restore x23, x24 */
    ldp     x25, x26, [sp, #QUANTA_FRAME_X25]       /* restore x25, x26 */
    ldp     x27, x28, [sp, #QUANTA_FRAME_X27]       /* restore x27, x28 */
    ldp     x29, x30, [sp], #QUANTA_FRAME_SIZE      /* restore fp, lr; drop the frame */
    .cfi_def_cfa_offset 0
    .cfi_restore x29
    .cfi_restore x30
    ret                                             /* resume at the restored x30 */
    .cfi_endproc
    .size   quanta_ctx_switch, .-quanta_ctx_switch

/* void *quanta_ctx_make(void *stack_top [x0], void (*entry)(void *) [x1],
 *                       void *arg [x2])
 * Builds a frame whose resume address (x30) is the trampoline, with entry in
 * x19, arg in x20, x29 = 0, every other register slot 0 and the caller's FPCR.
 * The frame ends at stack_top aligned down to 16, so the trampoline starts with
 * sp = that aligned top, as AAPCS64 requires at every public interface. */
    .globl  quanta_ctx_make
    .hidden quanta_ctx_make
    .type   quanta_ctx_make, %function
    .p2align 4
quanta_ctx_make:
    .cfi_startproc
    QUANTA_BTI_C
    and     x9, x0, #-16                            /* align the top */
    sub     x9, x9, #QUANTA_FRAME_SIZE              /* the frame below it */
    adr     x10, quanta_ctx_trampoline
    stp     xzr, x10, [x9, #QUANTA_FRAME_X29]       /* x29 = 0 ends frame-pointer walks;
                                                       x30 = resume in the trampoline */
    stp     x1, x2, [x9, #QUANTA_FRAME_X19]         /* x19 = entry, x20 = arg */
    stp     xzr, xzr, [x9, #QUANTA_FRAME_X21]
    stp     xzr, xzr, [x9, #QUANTA_FRAME_X23]
    stp     xzr, xzr, [x9, #QUANTA_FRAME_X25]
    stp     xzr, xzr, [x9, #QUANTA_FRAME_X27]
    stp     xzr, xzr, [x9, #QUANTA_FRAME_D8]        /* d8-d15 = +0.0 */
    stp     xzr, xzr, [x9, #QUANTA_FRAME_D10]
    stp     xzr, xzr, [x9, #QUANTA_FRAME_D12]
    stp     xzr, xzr, [x9, #QUANTA_FRAME_D14]
    mrs     x10, fpcr
    stp     x10, xzr, [x9, #QUANTA_FRAME_FPCR]      /* inherit FPCR; zero the unused slot */
    mov     x0, x9
    ret
    .cfi_endproc
    .size   quanta_ctx_make, .-quanta_ctx_make

/* First code a fresh context runs: entry(arg). entry never returns; if it
 * does, trap rather than run off into whatever lies above the stack top.
 * `.cfi_undefined x30` tells unwinders (gdb, libgcc) that the call chain ends;
 * x29 = 0 does the same for frame-pointer walks. No `bti`: reached by `ret`. */
    .globl  quanta_ctx_trampoline
    .hidden quanta_ctx_trampoline
    .type   quanta_ctx_trampoline, %function
    .p2align 4
quanta_ctx_trampoline:
    .cfi_startproc
    .cfi_undefined x30
    mov     x0, x20                                 /* first argument */
    blr     x19                                     /* entry(arg) */
    brk     #0                                      /* entry returned: a bug */
    .cfi_endproc
    .size   quanta_ctx_trampoline, .-quanta_ctx_trampoline

#if defined(__ARM_FEATURE_BTI_DEFAULT)
/* ELF note: NT_GNU_PROPERTY_TYPE_0 with GNU_PROPERTY_AARCH64_FEATURE_1_AND =
 * GNU_PROPERTY_AARCH64_FEATURE_1_BTI. The linker marks the program BTI only if
 * every input object carries it; the loader then maps its code as guarded. */
    .pushsection .note.gnu.property, "a"
    .p2align 3
    .word   4                                       /* n_namesz: "GNU\0" */
    .word   16                                      /* n_descsz */
    .word   5                                       /* n_type: NT_GNU_PROPERTY_TYPE_0 */
    .asciz  "GNU"
    .word   0xc0000000                              /* pr_type: GNU_PROPERTY_AARCH64_FEATURE_1_AND */
    .word   4                                       /* pr_datasz */
    .word   1                                       /* GNU_PROPERTY_AARCH64_FEATURE_1_BTI */
    .word   0                                       /* pad to 8 bytes */
    .popsection
#endif

    .section .note.GNU-stack, "", %progbits
