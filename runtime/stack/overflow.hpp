// quanta — stack overflow detection and reporting.
//
// Guarded stacks: a SIGSEGV handler (installed once per process, on each
// worker's sigaltstack) recognises a fault inside the current ULT's guard page
// and reports it. Any other SIGSEGV goes to the handler that was installed
// before quanta's, or to the default action.
// Canary stacks: the canary word at the stack's low end is checked each time
// the ULT switches out.
#pragma once

namespace quanta::detail {

struct Ult;

// Idempotent; called by every Runtime constructor.
void install_overflow_handler();

// Prints `quanta: stack overflow in ULT <id> "<name>" (stack <size> bytes)`
// and aborts. Async-signal-safe.
[[noreturn]] void report_stack_overflow(const Ult* u, bool by_canary) noexcept;

}  // namespace quanta::detail
