// quanta — internals the public templates need: the typed task a ULT runs and
// the few runtime entry points that create, start, join and release a ULT.
// Not part of the supported API; may change without notice.
#pragma once
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "quanta/config.hpp"

namespace quanta {
class Runtime;
}

namespace quanta::detail {

struct Ult;  // the runtime's control block; opaque here

// What the runtime knows of a task: how to run it and how to destroy it.
// Lives in the ULT's own memory, next to its control block.
struct TaskBase {
  void (*run)(TaskBase*) noexcept = nullptr;
  void (*destroy)(TaskBase*) noexcept = nullptr;
  std::exception_ptr error;  // set when the function threw
  bool joined = false;       // a JoinHandle took the result (or the error)
};

template <class T>
struct TaskResult : TaskBase {
  using Stored = std::conditional_t<std::is_reference_v<T>,
                                    std::reference_wrapper<std::remove_reference_t<T>>, T>;
  std::optional<Stored> value;
};
template <>
struct TaskResult<void> : TaskBase {};

template <class F, class T>
struct Task final : TaskResult<T> {
  union {
    F fn;  // destroyed right after it ran, so captures die with the ULT's work
  };

  explicit Task(F&& f) : fn(std::move(f)) {
    this->run = &Task::run_impl;
    this->destroy = &Task::destroy_impl;
  }
  explicit Task(const F& f) : fn(f) {
    this->run = &Task::run_impl;
    this->destroy = &Task::destroy_impl;
  }
  ~Task() {}

  static void run_impl(TaskBase* base) noexcept {
    auto* self = static_cast<Task*>(base);
    try {
      if constexpr (std::is_void_v<T>) {
        std::invoke(self->fn);
      } else {
        self->value.emplace(std::invoke(self->fn));
      }
    } catch (...) {
      self->error = std::current_exception();
    }
    self->fn.~F();
  }
  static void destroy_impl(TaskBase* base) noexcept { static_cast<Task*>(base)->~Task(); }
};

// Where a ULT may run and how its stack is placed (ThreadBuilder's
// cpu_affinity, numa_node, migration, stack_prefetch, huge_pages).
struct PlacementAttrs {
  const int* cpus = nullptr;  // OS CPU numbers, when has_affinity
  std::size_t cpu_count = 0;
  bool has_affinity = false;
  bool has_numa_node = false;
  unsigned numa_node = 0;
  MigrationPolicy migration = MigrationPolicy::Allowed;
  bool stack_prefetch = false;
  bool huge_pages = false;
};

// Options of one spawn; zero / null means "the runtime's default".
struct SpawnAttrs {
  const char* name = nullptr;
  std::size_t name_len = 0;
  std::size_t stack_size = 0;
  int priority = kDefaultPriority;
  bool profiling = false;  // ThreadBuilder::profiling
  // Null unless a placement option differs from its default: a spawn without
  // one takes no placement path at all.
  const PlacementAttrs* placement = nullptr;
};

// Allocates a ULT of `rt` (nullptr: the runtime of the calling ULT) with room
// for a task of `size` bytes aligned to `align`; *task_mem receives where to
// construct it. Throws ConfigError for bad attributes, UsageError without a
// runtime, ResourceError when no stack can be had.
Ult* ult_create(Runtime* rt, const SpawnAttrs& attrs, std::size_t size, std::size_t align,
                void** task_mem);
// Gives back a ULT whose task could not be constructed (never started).
void ult_abandon(Ult* u) noexcept;
// Makes the ULT runnable. From here on, the runtime and the caller each hold a
// reference.
void ult_start(Ult* u, TaskBase* task) noexcept;
// Waits until the ULT has finished: parks a calling ULT, blocks a kernel thread.
void ult_join(Ult* u);
// Drops the caller's reference: after ult_join this frees the ULT once the
// runtime is done with it; before, it detaches the ULT.
void ult_release(Ult* u) noexcept;
std::uint64_t ult_id(const Ult* u) noexcept;

template <class F>
using TaskResultOf = std::invoke_result_t<std::decay_t<F>&>;

// Creates and starts a ULT running f; returns its control block and task.
template <class F>
std::pair<Ult*, TaskResult<TaskResultOf<F>>*> spawn_task(Runtime* rt, const SpawnAttrs& attrs,
                                                         F&& f) {
  using Fn = std::decay_t<F>;
  using T = TaskResultOf<F>;
  using TaskT = Task<Fn, T>;
  void* mem = nullptr;
  Ult* u = ult_create(rt, attrs, sizeof(TaskT), alignof(TaskT), &mem);
  TaskT* task;
  try {
    task = ::new (mem) TaskT(std::forward<F>(f));
  } catch (...) {
    ult_abandon(u);
    throw;
  }
  ult_start(u, task);
  return {u, task};
}

}  // namespace quanta::detail
