/* quanta — x86_64 cooperative context switch and first-entry trampoline.
 *
 * ABI: System V AMD64 psABI, section 3.2 "Function Calling Sequence"
 * (figure 3.4, "Register Usage"). Callee-saved and therefore saved here:
 *   rbx, rbp, r12, r13, r14, r15, rsp,
 *   MXCSR control bits and the x87 control word ("the control bits of the
 *   MXCSR register and the x87 control word are callee-saved").
 * Everything else (rax, rcx, rdx, rsi, rdi, r8-r11, xmm0-15/ymm/zmm, x87 stack,
 * status flags) is caller-saved: the compiler already assumes a call to
 * quanta_ctx_switch destroys it, so saving it would be wasted work.
 * The frame layout is in frame.h.
 *
 * CET: these functions start with endbr64 when the compiler targets IBT.
 * Shadow stacks are not supported (a switch returns to another stack's return
 * address), so this object deliberately carries no GNU property note: the
 * linker then marks the program as not shadow-stack capable.
 */
#include "frame.h"

#if defined(__CET__) && (__CET__ & 1)
#define QUANTA_ENDBR endbr64
#else
#define QUANTA_ENDBR
#endif

    .file "switch.S"
    .text

/* void quanta_ctx_switch(void **save_sp [rdi], void *load_sp [rsi]) */
    .globl  quanta_ctx_switch
    .hidden quanta_ctx_switch
    .type   quanta_ctx_switch, @function
    .p2align 4
quanta_ctx_switch:
    .cfi_startproc
    QUANTA_ENDBR
    subq    $QUANTA_FRAME_SIZE, %rsp                /* room for the frame */
    .cfi_adjust_cfa_offset QUANTA_FRAME_SIZE
    stmxcsr QUANTA_FRAME_MXCSR(%rsp)                /* save MXCSR */
    fnstcw  QUANTA_FRAME_X87CW(%rsp)                /* save x87 control word */
    movq    %r12, QUANTA_FRAME_R12(%rsp)            /* save r12 */
    movq    %r13, QUANTA_FRAME_R13(%rsp)            /* save r13 */
    movq    %r14, QUANTA_FRAME_R14(%rsp)            /* save r14 */
    movq    %r15, QUANTA_FRAME_R15(%rsp)            /* save r15 */
    movq    %rbx, QUANTA_FRAME_RBX(%rsp)            /* save rbx */
    movq    %rbp, QUANTA_FRAME_RBP(%rsp)            /* save rbp */
    movq    %rsp, (%rdi)                            /* *save_sp = rsp */

    movq    %rsi, %rsp                              /* switch stacks */
    ldmxcsr QUANTA_FRAME_MXCSR(%rsp)                /* restore MXCSR */
    fldcw   QUANTA_FRAME_X87CW(%rsp)                /* restore x87 control word */
    movq    QUANTA_FRAME_R12(%rsp), %r12            /* restore r12 */
    movq    QUANTA_FRAME_R13(%rsp), %r13            /* restore r13 */
    movq    QUANTA_FRAME_R14(%rsp), %r14            /* restore r14 */
    movq    QUANTA_FRAME_R15(%rsp), %r15            /* restore r15 */
    movq    QUANTA_FRAME_RBX(%rsp), %rbx            /* restore rbx */
    movq    QUANTA_FRAME_RBP(%rsp), %rbp            /* restore rbp */
    addq    $QUANTA_FRAME_SIZE, %rsp                /* drop the frame */
    .cfi_adjust_cfa_offset -QUANTA_FRAME_SIZE
    ret                                             /* resume at its return address */
    .cfi_endproc
    .size   quanta_ctx_switch, .-quanta_ctx_switch

/* void *quanta_ctx_make(void *stack_top [rdi], void (*entry)(void *) [rsi],
 *                       void *arg [rdx])
 * Builds a frame whose resume address is the trampoline, with entry in rbx and
 * arg in r12, and the caller's MXCSR / x87 control word. The trampoline starts
 * with rsp = stack_top aligned down to 16, as the ABI wants before a call. */
    .globl  quanta_ctx_make
    .hidden quanta_ctx_make
    .type   quanta_ctx_make, @function
    .p2align 4
quanta_ctx_make:
    .cfi_startproc
    QUANTA_ENDBR
    movq    %rdi, %rax
    andq    $-16, %rax                              /* align the top */
    subq    $(QUANTA_FRAME_SIZE + 8), %rax          /* frame + resume address */
    stmxcsr QUANTA_FRAME_MXCSR(%rax)                /* inherit MXCSR */
    fnstcw  QUANTA_FRAME_X87CW(%rax)                /* inherit x87 control word */
    movq    %rdx, QUANTA_FRAME_R12(%rax)            /* r12 = arg */
    movq    $0, QUANTA_FRAME_R13(%rax)
    movq    $0, QUANTA_FRAME_R14(%rax)
    movq    $0, QUANTA_FRAME_R15(%rax)
    movq    %rsi, QUANTA_FRAME_RBX(%rax)            /* rbx = entry */
    movq    $0, QUANTA_FRAME_RBP(%rax)              /* rbp = 0 ends frame-pointer walks */
    leaq    quanta_ctx_trampoline(%rip), %rcx
    movq    %rcx, QUANTA_FRAME_PC(%rax)             /* resume in the trampoline */
    ret
    .cfi_endproc
    .size   quanta_ctx_make, .-quanta_ctx_make

/* First code a fresh context runs: entry(arg). entry never returns; if it
 * does, trap rather than run off into whatever lies above the stack top.
 * `.cfi_undefined rip` tells unwinders (gdb, libgcc) that the call chain ends. */
    .globl  quanta_ctx_trampoline
    .hidden quanta_ctx_trampoline
    .type   quanta_ctx_trampoline, @function
    .p2align 4
quanta_ctx_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    QUANTA_ENDBR
    movq    %r12, %rdi                              /* first argument */
    callq   *%rbx                                   /* entry(arg) */
    ud2                                             /* entry returned: a bug */
    .cfi_endproc
    .size   quanta_ctx_trampoline, .-quanta_ctx_trampoline

    .section .note.GNU-stack, "", %progbits
