/* quanta tests — riscv64 (RISC-V ELF psABI, LP64D): does quanta_ctx_switch
 * preserve s0-s11, sp, fs0-fs11 (all 64 bits) and the fcsr rounding mode?
 *
 * Result bits of quanta_test_switch_preserves:
 *   0-11  s0-s11 (bit n = sn)
 *   12-23 fs0-fs11 (bit 12+n = fsn), compared as 64-bit patterns
 *   24    frm (fcsr rounding mode; the accrued flags are not compared)
 *   25    sp (stack pointer not restored)
 *
 * Patterns: sn = 0x1111111111111111 * (n + 1) (0x1111... to 0xcccc...);
 * fsn = 0xf1f1f1f1f1f1f1f1 + 0x0101010101010101 * n (0xf1f1... to 0xfcfc...),
 * NaN bit patterns whose upper half is not the all-ones NaN box, so a 32-bit
 * save (fsw/flw) or a conversion would show. frm = RDN (2); the clobber context
 * sets RUP (3) and all five fflags.
 */
    .text

/* t0 = the 64-bit pattern of sn / fsn */
.macro PAT_S n
    li      t0, 0x1111111111111111 * (\n + 1)
.endm
.macro PAT_FS n
    li      t0, 0xf1f1f1f1f1f1f1f1 + 0x0101010101010101 * \n
.endm

/* a0 |= 1 << bit unless reg == t0 (clobbers t1) */
.macro CHECK reg, bit
    beq     \reg, t0, 1f
    li      t1, 1 << \bit
    or      a0, a0, t1
1:
.endm

/* frame of quanta_test_switch_preserves, 224 bytes (16-aligned) */
#define L_FCSR 0          /* caller's fcsr */
#define L_SP   8          /* sp after the prologue, for bit 25 */
#define L_FS   16         /* caller's fs0-fs11, 12 x 8 */
#define L_S    112        /* caller's s0-s11, 12 x 8 */
#define L_RA   208        /* caller's ra */
#define L_SIZE 224

    .globl quanta_test_switch_preserves
    .type  quanta_test_switch_preserves, @function
    .p2align 4
quanta_test_switch_preserves:
    /* save the caller's callee-saved state */
    addi    sp, sp, -L_SIZE
    sd      ra, L_RA(sp)
    sd      s0, L_S+0*8(sp)
    sd      s1, L_S+1*8(sp)
    sd      s2, L_S+2*8(sp)
    sd      s3, L_S+3*8(sp)
    sd      s4, L_S+4*8(sp)
    sd      s5, L_S+5*8(sp)
    sd      s6, L_S+6*8(sp)
    sd      s7, L_S+7*8(sp)
    sd      s8, L_S+8*8(sp)
    sd      s9, L_S+9*8(sp)
    sd      s10, L_S+10*8(sp)
    sd      s11, L_S+11*8(sp)
    fsd     fs0, L_FS+0*8(sp)
    fsd     fs1, L_FS+1*8(sp)
    fsd     fs2, L_FS+2*8(sp)
    fsd     fs3, L_FS+3*8(sp)
    fsd     fs4, L_FS+4*8(sp)
    fsd     fs5, L_FS+5*8(sp)
    fsd     fs6, L_FS+6*8(sp)
    fsd     fs7, L_FS+7*8(sp)
    fsd     fs8, L_FS+8*8(sp)
    fsd     fs9, L_FS+9*8(sp)
    fsd     fs10, L_FS+10*8(sp)
    fsd     fs11, L_FS+11*8(sp)
    frcsr   t0
    sd      t0, L_FCSR(sp)
    sd      sp, L_SP(sp)

    /* patterns; a0 and a1 are left untouched for quanta_ctx_switch */
    PAT_S 0
    mv      s0, t0
    PAT_S 1
    mv      s1, t0
    PAT_S 2
    mv      s2, t0
    PAT_S 3
    mv      s3, t0
    PAT_S 4
    mv      s4, t0
    PAT_S 5
    mv      s5, t0
    PAT_S 6
    mv      s6, t0
    PAT_S 7
    mv      s7, t0
    PAT_S 8
    mv      s8, t0
    PAT_S 9
    mv      s9, t0
    PAT_S 10
    mv      s10, t0
    PAT_S 11
    mv      s11, t0
    PAT_FS 0
    fmv.d.x fs0, t0
    PAT_FS 1
    fmv.d.x fs1, t0
    PAT_FS 2
    fmv.d.x fs2, t0
    PAT_FS 3
    fmv.d.x fs3, t0
    PAT_FS 4
    fmv.d.x fs4, t0
    PAT_FS 5
    fmv.d.x fs5, t0
    PAT_FS 6
    fmv.d.x fs6, t0
    PAT_FS 7
    fmv.d.x fs7, t0
    PAT_FS 8
    fmv.d.x fs8, t0
    PAT_FS 9
    fmv.d.x fs9, t0
    PAT_FS 10
    fmv.d.x fs10, t0
    PAT_FS 11
    fmv.d.x fs11, t0
    fsrmi   2                      /* frm = RDN, round toward -inf */

    call    quanta_ctx_switch      /* a0, a1 passed through untouched */

    li      a0, 0
    PAT_S 0
    CHECK   s0, 0
    PAT_S 1
    CHECK   s1, 1
    PAT_S 2
    CHECK   s2, 2
    PAT_S 3
    CHECK   s3, 3
    PAT_S 4
    CHECK   s4, 4
    PAT_S 5
    CHECK   s5, 5
    PAT_S 6
    CHECK   s6, 6
    PAT_S 7
    CHECK   s7, 7
    PAT_S 8
    CHECK   s8, 8
    PAT_S 9
    CHECK   s9, 9
    PAT_S 10
    CHECK   s10, 10
    PAT_S 11
    CHECK   s11, 11
    fmv.x.d t2, fs0
    PAT_FS 0
    CHECK   t2, 12
    fmv.x.d t2, fs1
    PAT_FS 1
    CHECK   t2, 13
    fmv.x.d t2, fs2
    PAT_FS 2
    CHECK   t2, 14
    fmv.x.d t2, fs3
    PAT_FS 3
    CHECK   t2, 15
    fmv.x.d t2, fs4
    PAT_FS 4
    CHECK   t2, 16
    fmv.x.d t2, fs5
    PAT_FS 5
    CHECK   t2, 17
    fmv.x.d t2, fs6
    PAT_FS 6
    CHECK   t2, 18
    fmv.x.d t2, fs7
    PAT_FS 7
    CHECK   t2, 19
    fmv.x.d t2, fs8
    PAT_FS 8
    CHECK   t2, 20
    fmv.x.d t2, fs9
    PAT_FS 9
    CHECK   t2, 21
    fmv.x.d t2, fs10
    PAT_FS 10
    CHECK   t2, 22
    fmv.x.d t2, fs11
    PAT_FS 11
    CHECK   t2, 23
    frrm    t2
    li      t0, 2                  /* RDN */
    CHECK   t2, 24
    ld      t0, L_SP(sp)
    CHECK   sp, 25

    /* restore the caller's state */
    ld      t0, L_FCSR(sp)
    fscsr   t0
    fld     fs0, L_FS+0*8(sp)
    fld     fs1, L_FS+1*8(sp)
    fld     fs2, L_FS+2*8(sp)
    fld     fs3, L_FS+3*8(sp)
    fld     fs4, L_FS+4*8(sp)
    fld     fs5, L_FS+5*8(sp)
    fld     fs6, L_FS+6*8(sp)
    fld     fs7, L_FS+7*8(sp)
    fld     fs8, L_FS+8*8(sp)
    fld     fs9, L_FS+9*8(sp)
    fld     fs10, L_FS+10*8(sp)
    fld     fs11, L_FS+11*8(sp)
    ld      s0, L_S+0*8(sp)
    ld      s1, L_S+1*8(sp)
    ld      s2, L_S+2*8(sp)
    ld      s3, L_S+3*8(sp)
    ld      s4, L_S+4*8(sp)
    ld      s5, L_S+5*8(sp)
    ld      s6, L_S+6*8(sp)
    ld      s7, L_S+7*8(sp)
    ld      s8, L_S+8*8(sp)
    ld      s9, L_S+9*8(sp)
    ld      s10, L_S+10*8(sp)
    ld      s11, L_S+11*8(sp)
    ld      ra, L_RA(sp)
    addi    sp, sp, L_SIZE
    ret
    .size quanta_test_switch_preserves, .-quanta_test_switch_preserves

    .globl quanta_test_clobber_entry
    .type  quanta_test_clobber_entry, @function
    .p2align 4
quanta_test_clobber_entry:
    addi    sp, sp, -16            /* QuantaClobberArgs* survives on the stack, */
    sd      a0, 0(sp)              /* since every saved register is clobbered */
2:  li      s0, 0xdeadbeefdeadbeef
    mv      s1, s0
    mv      s2, s0
    mv      s3, s0
    mv      s4, s0
    mv      s5, s0
    mv      s6, s0
    mv      s7, s0
    mv      s8, s0
    mv      s9, s0
    mv      s10, s0
    mv      s11, s0
    fmv.d.x fs0, s0
    fmv.d.x fs1, s0
    fmv.d.x fs2, s0
    fmv.d.x fs3, s0
    fmv.d.x fs4, s0
    fmv.d.x fs5, s0
    fmv.d.x fs6, s0
    fmv.d.x fs7, s0
    fmv.d.x fs8, s0
    fmv.d.x fs9, s0
    fmv.d.x fs10, s0
    fmv.d.x fs11, s0
    li      t0, (3 << 5) | 0x1f    /* frm = RUP, round toward +inf; all fflags */
    fscsr   t0
    ld      a0, 0(sp)              /* &args->self_sp */
    ld      a1, 8(a0)              /* args->back_sp */
    call    quanta_ctx_switch
    j       2b
    .size quanta_test_clobber_entry, .-quanta_test_clobber_entry

    .section .note.GNU-stack, "", %progbits
