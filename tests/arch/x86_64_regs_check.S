/* quanta tests — x86_64: does quanta_ctx_switch preserve rbx, rbp, r12-r15,
 * the MXCSR control bits and the x87 control word?
 *
 * Result bits of quanta_test_switch_preserves:
 *   0 rbx  1 rbp  2 r12  3 r13  4 r14  5 r15  6 MXCSR control bits  7 x87 CW
 *   8 rsp (stack pointer not restored)
 */
    .text
    .globl quanta_test_switch_preserves
    .type  quanta_test_switch_preserves, @function
    .p2align 4
quanta_test_switch_preserves:
    /* save the caller's callee-saved state */
    pushq   %rbx
    pushq   %rbp
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    subq    $24, %rsp              /* 0: mxcsr, 4: x87 cw, 8: rsp check; keeps alignment */
    stmxcsr 0(%rsp)
    fnstcw  4(%rsp)
    movq    %rsp, 8(%rsp)

    /* patterns */
    movabsq $0x1111111111111111, %rbx
    movabsq $0x2222222222222222, %rbp
    movabsq $0x3333333333333333, %r12
    movabsq $0x4444444444444444, %r13
    movabsq $0x5555555555555555, %r14
    movabsq $0x6666666666666666, %r15
    subq    $16, %rsp
    movl    $0x3F80, 0(%rsp)       /* MXCSR: round toward -inf, all masked */
    ldmxcsr 0(%rsp)
    movw    $0x077F, 4(%rsp)       /* x87: round toward -inf, extended precision */
    fldcw   4(%rsp)
    addq    $16, %rsp

    call    quanta_ctx_switch      /* rdi, rsi passed through untouched */

    xorl    %eax, %eax
    movabsq $0x1111111111111111, %rcx
    cmpq    %rcx, %rbx
    je      1f
    orq     $0x01, %rax
1:  movabsq $0x2222222222222222, %rcx
    cmpq    %rcx, %rbp
    je      1f
    orq     $0x02, %rax
1:  movabsq $0x3333333333333333, %rcx
    cmpq    %rcx, %r12
    je      1f
    orq     $0x04, %rax
1:  movabsq $0x4444444444444444, %rcx
    cmpq    %rcx, %r13
    je      1f
    orq     $0x08, %rax
1:  movabsq $0x5555555555555555, %rcx
    cmpq    %rcx, %r14
    je      1f
    orq     $0x10, %rax
1:  movabsq $0x6666666666666666, %rcx
    cmpq    %rcx, %r15
    je      1f
    orq     $0x20, %rax
1:  subq    $16, %rsp
    stmxcsr 0(%rsp)
    fnstcw  4(%rsp)
    movl    0(%rsp), %ecx
    andl    $0xFFC0, %ecx          /* control bits only; status flags may change */
    cmpl    $0x3F80, %ecx
    je      1f
    orq     $0x40, %rax
1:  movzwl  4(%rsp), %ecx
    andl    $0x1F3F, %ecx          /* the defined control bits */
    cmpl    $0x073F, %ecx
    je      1f
    orq     $0x80, %rax
1:  addq    $16, %rsp
    cmpq    %rsp, 8(%rsp)
    je      1f
    orq     $0x100, %rax
1:
    /* restore the caller's state */
    ldmxcsr 0(%rsp)
    fldcw   4(%rsp)
    addq    $24, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbp
    popq    %rbx
    ret
    .size quanta_test_switch_preserves, .-quanta_test_switch_preserves

    .globl quanta_test_clobber_entry
    .type  quanta_test_clobber_entry, @function
    .p2align 4
quanta_test_clobber_entry:
    movq    %rdi, %rax             /* QuantaClobberArgs* survives in... */
    subq    $8, %rsp               /* realign to 16 for the calls below */
2:  pushq   %rax                   /* ...the stack, since we clobber everything */
    subq    $8, %rsp
    movabsq $0xdeadbeefdeadbeef, %rbx
    movq    %rbx, %rbp
    movq    %rbx, %r12
    movq    %rbx, %r13
    movq    %rbx, %r14
    movq    %rbx, %r15
    movl    $0x5F80, 0(%rsp)       /* MXCSR: round toward +inf */
    ldmxcsr 0(%rsp)
    movw    $0x0B7F, 4(%rsp)       /* x87: round toward +inf */
    fldcw   4(%rsp)
    movq    8(%rsp), %rdi          /* &args->self_sp */
    movq    8(%rdi), %rsi          /* args->back_sp */
    call    quanta_ctx_switch
    addq    $8, %rsp
    popq    %rax
    jmp     2b
    .size quanta_test_clobber_entry, .-quanta_test_clobber_entry

    .section .note.GNU-stack, "", %progbits
