// quanta — user-level threads: JoinHandle, ThreadBuilder and this_thread.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "quanta/config.hpp"
#include "quanta/detail/task.hpp"
#include "quanta/error.hpp"

namespace quanta {

class Runtime;

// The result of a spawned ULT, like std::thread plus a return value.
// Move-only and default-constructible (empty). Dropping a joinable handle
// detaches the ULT: it still runs to completion, and an exception it throws
// is reported on stderr instead of being lost silently.
// May be used from ULTs and from kernel threads.
template <class T>
class JoinHandle {
 public:
  JoinHandle() noexcept = default;
  JoinHandle(JoinHandle&& other) noexcept
      : ult_(std::exchange(other.ult_, nullptr)), task_(std::exchange(other.task_, nullptr)) {}
  JoinHandle& operator=(JoinHandle&& other) noexcept {
    if (this != &other) {
      reset();
      ult_ = std::exchange(other.ult_, nullptr);
      task_ = std::exchange(other.task_, nullptr);
    }
    return *this;
  }
  JoinHandle(const JoinHandle&) = delete;
  JoinHandle& operator=(const JoinHandle&) = delete;
  ~JoinHandle() { reset(); }

  // True until join() or detach().
  bool joinable() const noexcept { return ult_ != nullptr; }

  // The ULT's id (as this_thread::id() returns inside it); 0 when empty.
  std::uint64_t id() const noexcept { return ult_ ? detail::ult_id(ult_) : 0; }

  // Waits for the ULT to finish and returns its result, or rethrows the
  // exception it ended with. From a ULT this parks only the caller; from a
  // kernel thread it blocks that thread. Afterwards the handle is empty.
  // Throws UsageError on an empty handle (default-constructed, joined, detached).
  T join() {
    if (!ult_) {
      throw UsageError(
          "quanta::JoinHandle::join: the handle is empty (already joined, detached, or "
          "default-constructed); expected a handle returned by spawn");
    }
    detail::ult_join(ult_);
    detail::Ult* u = std::exchange(ult_, nullptr);
    auto* task = std::exchange(task_, nullptr);
    task->joined = true;
    struct Release {
      detail::Ult* u;
      ~Release() { detail::ult_release(u); }
    } release{u};
    if (task->error) std::rethrow_exception(task->error);
    if constexpr (!std::is_void_v<T>) {
      if constexpr (std::is_reference_v<T>) {
        return task->value->get();
      } else {
        return std::move(*task->value);
      }
    }
  }

  // Lets the ULT run on without a handle. Throws UsageError on an empty handle.
  void detach() {
    if (!ult_) {
      throw UsageError(
          "quanta::JoinHandle::detach: the handle is empty (already joined or detached)");
    }
    reset();
  }

 private:
  template <class F>
  friend JoinHandle<detail::TaskResultOf<F>> detail_make_handle(Runtime*, const detail::SpawnAttrs&,
                                                                F&&);
  JoinHandle(detail::Ult* u, detail::TaskResult<T>* t) noexcept : ult_(u), task_(t) {}
  void reset() noexcept {
    if (ult_) detail::ult_release(std::exchange(ult_, nullptr));
    task_ = nullptr;
  }

  detail::Ult* ult_ = nullptr;
  detail::TaskResult<T>* task_ = nullptr;
};

template <class F>
JoinHandle<detail::TaskResultOf<F>> detail_make_handle(Runtime* rt, const detail::SpawnAttrs& attrs,
                                                       F&& f) {
  auto [u, task] = detail::spawn_task(rt, attrs, std::forward<F>(f));
  return JoinHandle<detail::TaskResultOf<F>>(u, task);
}

// Spawns a ULT with options:
//   ThreadBuilder().name("w").stack_size(64 << 10).priority(20).spawn(rt, fn);
// Options are checked at spawn: a stack size outside [kMinStackSize,
// kMaxStackSize] or a priority outside [kMinPriority, kMaxPriority] throws
// ConfigError naming the value.
class ThreadBuilder {
 public:
  // Name shown in diagnostics (stack overflow reports, traces). Copied.
  ThreadBuilder& name(std::string_view n) {
    name_ = n;
    return *this;
  }
  // Stack size in bytes (rounded up to whole pages); 0 = the runtime's default.
  ThreadBuilder& stack_size(std::size_t bytes) noexcept {
    stack_size_ = bytes;
    return *this;
  }
  // kMinPriority (lowest) .. kMaxPriority (highest); default kDefaultPriority.
  // Orders ULTs under SchedulerKind::RoundRobin only; work stealing keeps it
  // (it selects the ULT's time slice) without ordering by it.
  ThreadBuilder& priority(int p) noexcept {
    priority_ = p;
    return *this;
  }

  // Spawns fn on rt. Callable from ULTs and kernel threads.
  template <class F>
  JoinHandle<detail::TaskResultOf<F>> spawn(Runtime& rt, F&& fn) const {
    return detail_make_handle(&rt, attrs(), std::forward<F>(fn));
  }
  // Spawns fn on the runtime of the calling ULT; UsageError outside a ULT.
  template <class F>
  JoinHandle<detail::TaskResultOf<F>> spawn(F&& fn) const {
    return detail_make_handle(nullptr, attrs(), std::forward<F>(fn));
  }

 private:
  detail::SpawnAttrs attrs() const noexcept {
    detail::SpawnAttrs a;
    a.name = name_.empty() ? nullptr : name_.data();
    a.name_len = name_.size();
    a.stack_size = stack_size_;
    a.priority = priority_;
    return a;
  }
  std::string name_;
  std::size_t stack_size_ = 0;
  int priority_ = kDefaultPriority;
};

namespace detail {
void sleep_until_ns(std::int64_t steady_ns);
}

// Functions about the calling ULT. Outside a ULT (on a kernel thread) they act
// on that kernel thread: yield → sched_yield, sleeps → std::this_thread.
namespace this_thread {

// Lets other runnable ULTs of this worker run first (under RoundRobin, those
// of the same or a higher priority); returns at once when there are none.
void yield() noexcept;

// The calling ULT's id (unique in the process, never 0); 0 on a kernel thread.
std::uint64_t id() noexcept;

// Parks the calling ULT until at least `deadline`; the worker runs others.
template <class Duration>
void sleep_until(std::chrono::time_point<std::chrono::steady_clock, Duration> deadline) {
  detail::sleep_until_ns(
      std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count());
}

// Parks the calling ULT for at least `d`.
template <class Rep, class Period>
void sleep_for(std::chrono::duration<Rep, Period> d) {
  if (d <= d.zero()) return;
  sleep_until(std::chrono::steady_clock::now() +
              std::chrono::ceil<std::chrono::steady_clock::duration>(d));
}

}  // namespace this_thread
}  // namespace quanta
