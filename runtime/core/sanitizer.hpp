// quanta — sanitizer fiber hooks. ASan must be told about every stack switch
// (otherwise it reports false stack-buffer-overflows and loses fake stacks);
// in other builds these compile to nothing.
#pragma once
#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define QUANTA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QUANTA_ASAN 1
#endif
#endif

#ifdef QUANTA_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace quanta::detail {

// Before switching to a stack [bottom, bottom+size). `fake_stack_save` is
// null when the current context will never run again.
inline void asan_start_switch(void** fake_stack_save, const void* bottom,
                              std::size_t size) noexcept {
#ifdef QUANTA_ASAN
  __sanitizer_start_switch_fiber(fake_stack_save, bottom, size);
#else
  (void)fake_stack_save, (void)bottom, (void)size;
#endif
}

// First thing after a switch lands. `fake_stack` is what the resumed context
// saved (null for a context's first run).
inline void asan_finish_switch(void* fake_stack, const void** old_bottom = nullptr,
                               std::size_t* old_size = nullptr) noexcept {
#ifdef QUANTA_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, old_bottom, old_size);
#else
  (void)fake_stack, (void)old_bottom, (void)old_size;
#endif
}

// A reused stack may still carry poisoned redzones of frames that never
// returned (a finished ULT's frames).
inline void asan_unpoison(void* p, std::size_t n) noexcept {
#ifdef QUANTA_ASAN
  __asan_unpoison_memory_region(p, n);
#else
  (void)p, (void)n;
#endif
}

}  // namespace quanta::detail
