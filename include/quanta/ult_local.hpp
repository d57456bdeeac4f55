// quanta — storage local to a ULT, the migration-safe alternative to
// thread_local.
//
// A thread_local belongs to a kernel thread. A ULT may resume on another
// worker after a yield, a park or a preemption, and then its thread_locals are
// that worker's — worse, the compiler may keep a thread_local's (or errno's)
// address in a register across the switch and keep using the old thread's.
// UltLocal<T> belongs to the ULT: every ULT sees its own T, wherever it runs.
#pragma once
#include <new>
#include <utility>

namespace quanta {

namespace detail {
// The calling ULT's (or kernel thread's) slot for `key`, created by
// `create()` on first use and destroyed by `destroy(p)` when the ULT finishes
// (or the kernel thread exits).
void* ult_local_get(const void* key, void* (*create)(), void (*destroy)(void*));
}  // namespace detail

// One T per ULT, default-constructed on the ULT's first access, destroyed when
// the ULT finishes. Callable from ULTs and kernel threads (a kernel thread gets
// its own T, destroyed when it exits). The UltLocal object must outlive every
// ULT that used it (a global or static, typically).
template <class T>
class UltLocal {
 public:
  UltLocal() = default;
  UltLocal(const UltLocal&) = delete;
  UltLocal& operator=(const UltLocal&) = delete;

  // The calling ULT's T. The reference stays valid for the ULT's lifetime,
  // across switches and migrations.
  T& get() {
    return *static_cast<T*>(detail::ult_local_get(
        this, [] { return static_cast<void*>(new T()); },
        [](void* p) { delete static_cast<T*>(p); }));
  }
  T& operator*() { return get(); }
  T* operator->() { return &get(); }
};

}  // namespace quanta
