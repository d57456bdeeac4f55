/* quanta — the contract every ISA under arch/ implements.
 *
 * A context is a stack pointer. Everything a suspended context needs to resume
 * (the callee-saved registers of its ABI, its FP control register and its resume
 * address) lives in a frame on its own stack, below the saved stack pointer.
 * The frame layout of each ISA is in arch/<isa>/frame.h, shared by the .S file and
 * by the C++ tests so the two can never drift.
 *
 * This header is C so that it can be read by the assembler's preprocessor too;
 * nothing in arch/ depends on runtime/.
 */
#ifndef QUANTA_ARCH_CONTEXT_H
#define QUANTA_ARCH_CONTEXT_H

#ifndef __ASSEMBLER__
#ifdef __cplusplus
extern "C" {
#endif

/* Saves the callee-saved state of the caller on its stack, stores the resulting
 * stack pointer into *save_sp, loads load_sp (a value previously stored by
 * quanta_ctx_switch or returned by quanta_ctx_make) and resumes that context.
 * Returns when some other context switches back to *save_sp. */
void quanta_ctx_switch(void **save_sp, void *load_sp);

/* Prepares a fresh context on the stack whose highest usable address is
 * stack_top (exclusive; aligned down to 16 bytes here). The first switch to the
 * returned stack pointer calls entry(arg) through the ISA's trampoline with an
 * ABI-conforming stack; entry must never return (the trampoline traps if it does).
 * The new context starts with the FP control state of the caller of
 * quanta_ctx_make. */
void *quanta_ctx_make(void *stack_top, void (*entry)(void *), void *arg);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLER__ */

#endif
