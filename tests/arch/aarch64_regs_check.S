/* quanta tests — aarch64: does quanta_ctx_switch preserve x19-x29, sp,
 * d8-d15 and the FPCR control bits?
 *
 * ABI: "Procedure Call Standard for the Arm 64-bit Architecture" (AAPCS64),
 * sections 6.1.1 "General-purpose Registers" and 6.1.2 "SIMD and
 * Floating-Point Registers": x19-x29, sp and the low 64 bits of v8-v15 are
 * callee-saved; quanta also keeps FPCR per context (see arch/aarch64/switch.S).
 * x30 is not checked: it is the return address and is necessarily rewritten by
 * the `bl` into quanta_ctx_switch.
 *
 * Result bits of quanta_test_switch_preserves:
 *   0 x19   1 x20   2 x21   3 x22   4 x23   5 x24   6 x25   7 x26   8 x27
 *   9 x28  10 x29
 *  11 d8   12 d9   13 d10  14 d11  15 d12  16 d13  17 d14  18 d15
 *  19 FPCR control bits [25:22] (DN, FZ, RMode)
 *  20 sp (stack pointer not restored)
 *
 * Patterns: xN = 0xNNNN...NN (x19 = 0x1919191919191919), dN = full 64-bit
 * 0xD8D8... to 0xDFDF... (d8 to d15), FPCR RMode = 0b10 (toward minus
 * infinity), FZ = 1, DN = 1. The clobber context loads 0xdeadbeefdeadbeef into
 * x19-x29, 0xbadc0ffee0ddf00d into d8-d15, and FPCR RMode = 0b01 (toward plus
 * infinity), FZ = 0, DN = 0, so every checked FPCR bit differs.
 * Only FPCR bits [25:22] are set and compared; the others are left as found
 * (AAPCS64: reserved bits "must not be modified"; trap-enable bits are RES0 on
 * cores without FP trapping).
 */
#if defined(__ARM_FEATURE_BTI_DEFAULT)
#define QUANTA_BTI_C hint #34 /* bti c */
#else
#define QUANTA_BTI_C
#endif

#define FPCR_TEST_MASK  0x03C00000 /* DN (25), FZ (24), RMode (23:22) */
#define FPCR_TEST_SET   0x03800000 /* DN = 1, FZ = 1, RMode = 0b10 (toward -inf) */
#define FPCR_CLOBBER    0x00400000 /* DN = 0, FZ = 0, RMode = 0b01 (toward +inf) */

/* Own frame of quanta_test_switch_preserves (the caller's callee-saved state). */
#define F_X29   0
#define F_X19   16
#define F_X21   32
#define F_X23   48
#define F_X25   64
#define F_X27   80
#define F_D8    96
#define F_D10   112
#define F_D12   128
#define F_D14   144
#define F_FPCR  160
#define F_SP    168 /* sp as it was before the switch */
#define F_SIZE  176

/* result |= (reg != pattern) << bit */
.macro check_x reg, pattern, bit
    ldr     x9, =\pattern
    cmp     \reg, x9
    cset    x10, ne
    orr     x0, x0, x10, lsl #\bit
.endm
.macro check_d reg, pattern, bit
    ldr     x9, =\pattern
    fmov    x11, \reg
    cmp     x11, x9
    cset    x10, ne
    orr     x0, x0, x10, lsl #\bit
.endm

    .text
    .globl quanta_test_switch_preserves
    .type  quanta_test_switch_preserves, %function
    .p2align 4
quanta_test_switch_preserves:
    QUANTA_BTI_C
    /* save the caller's callee-saved state */
    stp     x29, x30, [sp, #-F_SIZE]!
    stp     x19, x20, [sp, #F_X19]
    stp     x21, x22, [sp, #F_X21]
    stp     x23, x24, [sp, #F_X23]
    stp     x25, x26, [sp, #F_X25]
    stp     x27, x28, [sp, #F_X27]
    stp     d8,  d9,  [sp, #F_D8]
    stp     d10, d11, [sp, #F_D10]
    stp     d12, d13, [sp, #F_D12]
    stp     d14, d15, [sp, #F_D14]
    mrs     x9, fpcr
    mov     x10, sp
    stp     x9, x10, [sp, #F_FPCR]      /* caller's FPCR; sp to compare against */

    /* patterns (x0, x1 stay untouched for the call) */
    ldr     x19, =0x1919191919191919
    ldr     x20, =0x2020202020202020
    ldr     x21, =0x2121212121212121
    ldr     x22, =0x2222222222222222
    ldr     x23, =0x2323232323232323
    ldr     x24, =0x2424242424242424
    ldr     x25, =0x2525252525252525
    ldr     x26, =0x2626262626262626
    ldr     x27, =0x2727272727272727
    ldr     x28, =0x2828282828282828
    ldr     x29, =0x2929292929292929
    ldr     x9, =0xD8D8D8D8D8D8D8D8
    fmov    d8, x9
    ldr     x9, =0xD9D9D9D9D9D9D9D9
    fmov    d9, x9
    ldr     x9, =0xDADADADADADADADA
    fmov    d10, x9
    ldr     x9, =0xDBDBDBDBDBDBDBDB
    fmov    d11, x9
    ldr     x9, =0xDCDCDCDCDCDCDCDC
    fmov    d12, x9
    ldr     x9, =0xDDDDDDDDDDDDDDDD
    fmov    d13, x9
    ldr     x9, =0xDEDEDEDEDEDEDEDE
    fmov    d14, x9
    ldr     x9, =0xDFDFDFDFDFDFDFDF
    fmov    d15, x9
    mrs     x9, fpcr
    bic     x9, x9, #FPCR_TEST_MASK
    orr     x9, x9, #FPCR_TEST_SET      /* toward -inf, flush-to-zero, default NaN */
    msr     fpcr, x9

    bl      quanta_ctx_switch           /* x0, x1 passed through untouched */

    mov     x0, #0
    check_x x19, 0x1919191919191919, 0
    check_x x20, 0x2020202020202020, 1
    check_x x21, 0x2121212121212121, 2
    check_x x22, 0x2222222222222222, 3
    check_x x23, 0x2323232323232323, 4
    check_x x24, 0x2424242424242424, 5
    check_x x25, 0x2525252525252525, 6
    check_x x26, 0x2626262626262626, 7
    check_x x27, 0x2727272727272727, 8
    check_x x28, 0x2828282828282828, 9
    check_x x29, 0x2929292929292929, 10
    check_d d8,  0xD8D8D8D8D8D8D8D8, 11
    check_d d9,  0xD9D9D9D9D9D9D9D9, 12
    check_d d10, 0xDADADADADADADADA, 13
    check_d d11, 0xDBDBDBDBDBDBDBDB, 14
    check_d d12, 0xDCDCDCDCDCDCDCDC, 15
    check_d d13, 0xDDDDDDDDDDDDDDDD, 16
    check_d d14, 0xDEDEDEDEDEDEDEDE, 17
    check_d d15, 0xDFDFDFDFDFDFDFDF, 18
    mrs     x9, fpcr
    and     x9, x9, #FPCR_TEST_MASK     /* the bits set above only */
    mov     x10, #FPCR_TEST_SET
    cmp     x9, x10
    cset    x10, ne
    orr     x0, x0, x10, lsl #19
    ldr     x9, [sp, #F_SP]
    mov     x10, sp
    cmp     x9, x10
    cset    x10, ne
    orr     x0, x0, x10, lsl #20

    /* restore the caller's state (x0 holds the result) */
    ldr     x9, [sp, #F_FPCR]
    msr     fpcr, x9
    ldp     d8,  d9,  [sp, #F_D8]
    ldp     d10, d11, [sp, #F_D10]
    ldp     d12, d13, [sp, #F_D12]
    ldp     d14, d15, [sp, #F_D14]
    ldp     x19, x20, [sp, #F_X19]
    ldp     x21, x22, [sp, #F_X21]
    ldp     x23, x24, [sp, #F_X23]
    ldp     x25, x26, [sp, #F_X25]
    ldp     x27, x28, [sp, #F_X27]
    ldp     x29, x30, [sp], #F_SIZE
    ret
    .ltorg                              /* the ldr = constants */
    .size quanta_test_switch_preserves, .-quanta_test_switch_preserves

/* Reached through the trampoline's `blr x19` with a 16-byte aligned sp. Never
 * returns, so it saves nothing of its caller. */
    .globl quanta_test_clobber_entry
    .type  quanta_test_clobber_entry, %function
    .p2align 4
quanta_test_clobber_entry:
    QUANTA_BTI_C
    sub     sp, sp, #16                 /* keeps sp 16-byte aligned */
    str     x0, [sp]                    /* QuantaClobberArgs* survives on the stack,
                                           since every register gets clobbered */
1:  ldr     x19, =0xdeadbeefdeadbeef
    mov     x20, x19
    mov     x21, x19
    mov     x22, x19
    mov     x23, x19
    mov     x24, x19
    mov     x25, x19
    mov     x26, x19
    mov     x27, x19
    mov     x28, x19
    mov     x29, x19
    ldr     x9, =0xbadc0ffee0ddf00d
    fmov    d8, x9
    fmov    d9, x9
    fmov    d10, x9
    fmov    d11, x9
    fmov    d12, x9
    fmov    d13, x9
    fmov    d14, x9
    fmov    d15, x9
    mrs     x9, fpcr
    bic     x9, x9, #FPCR_TEST_MASK
    orr     x9, x9, #FPCR_CLOBBER       /* toward +inf, no flush-to-zero, NaN propagation */
    msr     fpcr, x9
    ldr     x0, [sp]                    /* &args->self_sp */
    ldr     x1, [x0, #8]                /* args->back_sp */
    bl      quanta_ctx_switch
    b       1b
    .ltorg
    .size quanta_test_clobber_entry, .-quanta_test_clobber_entry

#if defined(__ARM_FEATURE_BTI_DEFAULT)
/* GNU property note marking this object BTI-compatible, as in switch.S: without
 * it a -mbranch-protection build of the tests would not be BTI-marked. */
    .pushsection .note.gnu.property, "a"
    .p2align 3
    .word   4                           /* n_namesz: "GNU\0" */
    .word   16                          /* n_descsz */
    .word   5                           /* n_type: NT_GNU_PROPERTY_TYPE_0 */
    .asciz  "GNU"
    .word   0xc0000000                  /* GNU_PROPERTY_AARCH64_FEATURE_1_AND */
    .word   4                           /* pr_datasz */
    .word   1                           /* GNU_PROPERTY_AARCH64_FEATURE_1_BTI */
    .word   0                           /* pad to 8 bytes */
    .popsection
#endif

    .section .note.GNU-stack, "", %progbits
