// quanta — operations on ULTs shared by the runtime's internals.
#pragma once
#include "core/ult.hpp"

namespace quanta::detail {

// Makes a parked ULT runnable: on the calling worker when it belongs to the
// same runtime (the woken ULT runs where its waker is, warm in cache), through
// the scheduler's remote path otherwise. Callable from any thread.
void wake(Ult* u) noexcept;

// Entry of every ULT (through the ISA trampoline): runs the task, wakes the
// joiner, exits.
[[noreturn]] void ult_main(void* arg) noexcept;

}  // namespace quanta::detail
