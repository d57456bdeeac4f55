// quanta — UltLocal storage: a short list per ULT (or kernel thread).
#include "quanta/ult_local.hpp"

#include "core/no_preempt.hpp"
#include "core/ult.hpp"
#include "core/ult_locals.hpp"
#include "core/worker.hpp"

namespace quanta::detail {
namespace {

// The slots of a kernel thread that is not running a ULT.
struct ThreadSlots {
  UltLocalSlot* head = nullptr;
  ~ThreadSlots() { destroy_ult_locals(head); }
};
thread_local ThreadSlots t_slots;

}  // namespace

void destroy_ult_locals(UltLocalSlot*& head) noexcept {
  while (UltLocalSlot* s = head) {
    head = s->next;
    s->destroy(s->value);
    delete s;
  }
}

void* ult_local_get(const void* key, void* (*create)(), void (*destroy)(void*)) {
  RuntimeSection section;  // the list is the ULT's; do not move mid-walk
  UltLocalSlot*& head = section.ult() ? section.ult()->locals : t_slots.head;
  for (UltLocalSlot* s = head; s; s = s->next)
    if (s->key == key) return s->value;
  auto* slot = new UltLocalSlot{key, nullptr, destroy, nullptr};
  try {
    slot->value = create();  // may itself create other UltLocal values
  } catch (...) {
    delete slot;
    throw;
  }
  slot->next = head;  // read after create(): it may have added slots
  head = slot;
  return slot->value;
}

}  // namespace quanta::detail
