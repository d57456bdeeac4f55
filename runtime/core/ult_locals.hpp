// quanta — the per-ULT list behind UltLocal<T>.
#pragma once

namespace quanta::detail {

struct UltLocalSlot {
  const void* key;
  void* value;
  void (*destroy)(void*);
  UltLocalSlot* next;
};

// Destroys every slot of a list (newest first) and empties it.
void destroy_ult_locals(UltLocalSlot*& head) noexcept;

}  // namespace quanta::detail
