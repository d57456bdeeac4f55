// quanta — user-level threads: JoinHandle, ThreadBuilder and this_thread.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
//   ThreadBuilder().cpu_affinity({0, 1}).migration(MigrationPolicy::Prohibited)
//       .spawn(rt, fn);
// Options are checked at spawn: a stack size outside [kMinStackSize,
// kMaxStackSize], a priority outside [kMinPriority, kMaxPriority], an
// affinity mask holding no worker's CPU or a NUMA node outside the runtime's
// topology throws ConfigError naming the value.
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

  // The CPUs the ULT may run on: OS CPU numbers, as in Topology::pus() and
  // Topology::cpu_mask_for_node(). The ULT runs only on the runtime's workers
  // whose CPU is in the set, whichever the scheduler: it is spawned onto one
  // of them, never stolen by another, and a yield, a preemption or a wake-up
  // puts it back on one of them. CPUs that no worker runs on are ignored, so
  // a whole node's CPU list may be passed. At spawn, a negative number or a
  // set holding no worker's CPU is a ConfigError naming the set and the
  // workers' CPUs. Calling it again replaces the set.
  ThreadBuilder& cpu_affinity(std::vector<int> cpus) {
    cpus_ = std::move(cpus);
    has_affinity_ = true;
    return *this;
  }
  // NUMA node (OS index) of the ULT: its stack is bound to the node's memory
  // (mbind) and it is spawned onto a worker of that node (among those of
  // cpu_affinity, if given, when one is on the node). Unless it is also
  // restricted, it may be stolen by or woken onto other workers later. The
  // stack is bound only when the runtime runs on the machine's topology and
  // then has a mapping of its own (not pooled); where the system offers no
  // memory binding it stays unbound if the machine has a single node, and is
  // a ResourceError otherwise. A node outside the runtime's topology is a
  // ConfigError at spawn naming it and the nodes that exist.
  ThreadBuilder& numa_node(unsigned node) noexcept {
    numa_node_ = node;
    has_numa_node_ = true;
    return *this;
  }
  // MigrationPolicy::Prohibited: the ULT stays on the worker it first runs on
  // (within cpu_affinity, if given) until it finishes. Default Allowed.
  ThreadBuilder& migration(MigrationPolicy policy) noexcept {
    migration_ = policy;
    return *this;
  }
  // Before each switch to the ULT, prefetch the cache lines of its saved
  // context and the top of its stack. Default off.
  ThreadBuilder& stack_prefetch(bool on = true) noexcept {
    stack_prefetch_ = on;
    return *this;
  }
  // A stack of at least 2 MiB gets a mapping of its own, its top 2 MiB
  // aligned, advised MADV_HUGEPAGE (transparent huge pages); it is unmapped
  // when the ULT is released and never reused by another spawn. Ignored for
  // smaller stacks. A hint: where the kernel has no transparent huge pages,
  // or none free, the stack gets normal pages. Default off.
  ThreadBuilder& huge_pages(bool on = true) noexcept {
    huge_pages_ = on;
    return *this;
  }

  // Profiles the ULT (quanta/metrics.hpp, ThreadMetrics): its run time is
  // timed on every switch, and hardware counters (cycles, instructions,
  // cache and branch misses, page faults) are counted only while it runs,
  // where the kernel allows perf events (each field says when it does not).
  // Costs two counter reads (system calls) per switch of this ULT; the
  // first profiled ULT to run on a worker opens that worker's counters,
  // which stay open until the runtime stops. Default off.
  ThreadBuilder& profiling(bool on = true) noexcept {
    profiling_ = on;
    return *this;
  }

  // Spawns fn on rt. Callable from ULTs and kernel threads.
  template <class F>
  JoinHandle<detail::TaskResultOf<F>> spawn(Runtime& rt, F&& fn) const {
    detail::PlacementAttrs p;
    return detail_make_handle(&rt, attrs(p), std::forward<F>(fn));
  }
  // Spawns fn on the runtime of the calling ULT; UsageError outside a ULT.
  template <class F>
  JoinHandle<detail::TaskResultOf<F>> spawn(F&& fn) const {
    detail::PlacementAttrs p;
    return detail_make_handle(nullptr, attrs(p), std::forward<F>(fn));
  }

 private:
  // The spawn's attributes; the placement ones are written into p, which
  // must live until the spawn returns.
  detail::SpawnAttrs attrs(detail::PlacementAttrs& p) const noexcept {
    detail::SpawnAttrs a;
    a.name = name_.empty() ? nullptr : name_.data();
    a.name_len = name_.size();
    a.stack_size = stack_size_;
    a.priority = priority_;
    a.profiling = profiling_;
    if (has_affinity_ || has_numa_node_ || migration_ != MigrationPolicy::Allowed ||
        stack_prefetch_ || huge_pages_) {
      p.cpus = cpus_.data();
      p.cpu_count = cpus_.size();
      p.has_affinity = has_affinity_;
      p.has_numa_node = has_numa_node_;
      p.numa_node = numa_node_;
      p.migration = migration_;
      p.stack_prefetch = stack_prefetch_;
      p.huge_pages = huge_pages_;
      a.placement = &p;
    }
    return a;
  }
  std::string name_;
  std::size_t stack_size_ = 0;
  int priority_ = kDefaultPriority;
  std::vector<int> cpus_;
  bool has_affinity_ = false;
  bool has_numa_node_ = false;
  unsigned numa_node_ = 0;
  MigrationPolicy migration_ = MigrationPolicy::Allowed;
  bool stack_prefetch_ = false;
  bool huge_pages_ = false;
  bool profiling_ = false;
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

// The index (0 .. Runtime::worker_count() - 1) of the worker running the
// caller; -1 on a thread that is no runtime's worker. The answer may be stale
// as soon as it is returned: a preemption can move the ULT to another worker
// right after the read (and a yield, sleep or park may too). It stays right
// for a ULT spawned with MigrationPolicy::Prohibited, or with a cpu_affinity
// that holds a single worker's CPU.
int worker_index() noexcept;

// The NUMA node (OS index) of the CPU of the worker running the caller, in
// the runtime's topology (Config::topology); -1 on a thread that is no
// runtime's worker. May be stale right after return, as worker_index().
int numa_node() noexcept;

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
