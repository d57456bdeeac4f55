// quanta — operations on ULTs shared by the runtime's internals.
#pragma once
#include "core/ult.hpp"

namespace quanta::detail {

struct Worker;

// Makes a parked ULT runnable: on the calling worker when it belongs to the
// same runtime (the woken ULT runs where its waker is, warm in cache), through
// the scheduler's remote path otherwise. Callable from any thread.
void wake(Ult* u) noexcept;
// wake() for a caller that knows its worker (w = current_worker()).
void wake_from(Worker* w, Ult* u) noexcept;

// ult_release() for a caller that knows its worker: w = current_worker()
// when w_known, looked up otherwise.
void ult_release_on(Ult* u, Worker* w, bool w_known) noexcept;

// Entry of every ULT (through the ISA trampoline): runs the task, wakes the
// joiner, exits.
[[noreturn]] void ult_main(void* arg) noexcept;

}  // namespace quanta::detail
