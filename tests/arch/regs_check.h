// quanta tests — per-ISA assembly that checks quanta_ctx_switch preserves every
// callee-saved register of the ABI and the FP control register.
#pragma once
#include <cstdint>

extern "C" {
// Loads a distinct known pattern into every callee-saved register (general,
// floating-point/vector where the ABI has callee-saved ones, and the FP control
// register), calls quanta_ctx_switch(save_sp, load_sp) and, once some context
// switches back, compares every register with its pattern. Returns a bit mask
// of the registers that changed (bit numbering per ISA, see the .S file); 0 means
// everything was preserved. It restores the caller's own callee-saved state
// before returning, as the ABI requires.
std::uint64_t quanta_test_switch_preserves(void** save_sp, void* load_sp);

// Entry for a context made by quanta_ctx_make. `arg` points to a
// QuantaClobberArgs. Forever: puts different garbage into every callee-saved
// register and a different FP control value, then
// quanta_ctx_switch(&args->self_sp, args->back_sp).
void quanta_test_clobber_entry(void* arg);
}

struct QuantaClobberArgs {
  void* self_sp;  // offset 0: where the clobber context saves itself
  void* back_sp;  // offset 8: the context it switches back to
};
