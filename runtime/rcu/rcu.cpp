// quanta — Rcu<T>'s type-erased core: read sections, retiring, grace periods.
//
// Readers.
//   * On a ULT: enter a no-preemption section (as NoPreempt), load the
//     pointer with acquire. A ULT inside a section cannot be preempted, and
//     must not yield or park, so it does not switch until the section ends:
//     its worker's `switches` counter cannot move while it reads.
//   * On a kernel thread (any thread not running a ULT, including a worker's
//     own context): there is no switch counter to watch. The reader
//     increments one of two per-Rcu counters (seq_cst), loads the pointer
//     (seq_cst) and decrements the same counter (release) when it leaves.
//     This is SRCU's scheme: the writer flips which counter new readers use
//     and waits for each counter to drain once, so a steady stream of kernel
//     readers cannot hold a grace period back for ever.
//
// A grace period (GP), started after a version was replaced, ends when
//   (a) every worker of every registered Runtime has been seen, after the
//       start, either not running a ULT (in_ult == 0, which includes parked)
//       or with a `switches` count different from the one at the start; and
//   (b) both kernel-reader counters have each been seen at 0 after the start.
// Then nobody can still read the replaced version:
//   (a) a ULT that read it began its section before the replacement. Its
//       worker's switch count at the start is that of the reading ULT (or a
//       later one), and in_ult was 1: either the section has ended or the
//       worker is still in it and the writer waits. Seeing the count move or
//       in_ult drop means that ULT switched out, which it does only after its
//       section. The ordering that makes "seen after the start" mean what it
//       says: in Membarrier mode the writer calls membarrier() after
//       publishing and before reading the counters (every worker has run a
//       full fence: its stores before are visible, its reads after see the new
//       pointer) and again after seeing the last quiescent state, before
//       freeing (the reader's loads, ordered before its switch in program
//       order, have completed). In Fences mode the same comes from a seq_cst
//       fence at the reader's entry and a release fence at its exit, paired
//       with a seq_cst fence after publishing and an acquire fence before
//       freeing.
//   (b) a kernel reader that loaded the replaced pointer did so before the
//       replacement in the seq_cst order, so its increment came before too,
//       and any later seq_cst load of its counter includes it until its
//       release decrement; a 0 read (acquire) after the start proves it has
//       left, and orders its reads before the free.
// Runtimes created after the start need no watching: they register after
// the writer's scan (the registry lock orders the two) and run ULTs only
// after their constructor has returned, so their readers see the new pointer.
//
// Retired versions wait in a FIFO with the number of GPs started when they
// were retired; a version retired while GP n (or no GP, n GPs being done)
// was the last started is safe once GP n + 1 has completed, the first to
// start after it. Only one GP is in flight per Rcu; update() starts one and
// polls it without waiting, synchronize() polls with sleeps in between.
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

#include "arch/cpu.hpp"
#include "core/no_preempt.hpp"
#include "core/runtime_core.hpp"
#include "quanta/mutex.hpp"
#include "quanta/rcu.hpp"
#include "quanta/thread.hpp"
#include "rcu/rcu_runtime.hpp"

namespace quanta::detail {

namespace {

// --- process-wide: the ordering mode and the registry of runtimes -----------

std::atomic<int> g_ordering{static_cast<int>(RcuOrdering::Unknown)};

struct RegisteredRuntime {
  std::uint64_t id;
  RuntimeCore* rt;
};

// The registry is reached by pointer and never destroyed: a Runtime that is
// a static object may be destroyed after this file's statics would be.
// g_registry_mu is taken by ULTs only inside a RuntimeSection (HACKING.md,
// "Kernel-thread locks").
struct Registry {
  std::mutex mu;
  std::vector<RegisteredRuntime> runtimes;
  std::uint64_t next_id = 1;
};

Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

long membarrier_call(int cmd) noexcept {
  const int saved = errno;
  const long r = ::syscall(__NR_membarrier, cmd, 0, 0);
  errno = saved;
  return r;
}

RcuOrdering choose_ordering() noexcept {
  const long cmds = membarrier_call(MEMBARRIER_CMD_QUERY);
  if (cmds >= 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
      membarrier_call(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0)
    return RcuOrdering::Membarrier;
  return RcuOrdering::Fences;
}

// Makes every thread of the process pass a full fence (Membarrier), or
// fences the caller (Fences; `order` is what the pairing needs).
void writer_barrier(RcuOrdering mode, std::memory_order order) noexcept {
  if (mode == RcuOrdering::Membarrier) {
    if (membarrier_call(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0) {
      std::fputs("quanta: Rcu: membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) failed after it had "
                 "been registered; cannot order a grace period\n",
                 stderr);
      std::abort();
    }
    std::atomic_thread_fence(std::memory_order_seq_cst);
  } else if (mode == RcuOrdering::Fences) {
    std::atomic_thread_fence(order);
  }
}

// Read sections of the calling kernel thread, for synchronize()'s check.
thread_local std::uint32_t t_kernel_read_depth = 0;

// Initial and largest sleep between two polls of synchronize().
constexpr std::chrono::microseconds kPollFirst{20};
constexpr std::chrono::microseconds kPollMax{1000};

}  // namespace

RcuOrdering rcu_ordering() noexcept {
  return static_cast<RcuOrdering>(g_ordering.load(std::memory_order_relaxed));
}

void rcu_set_ordering_for_testing(RcuOrdering o) noexcept {
  g_ordering.store(static_cast<int>(o), std::memory_order_relaxed);
}

void rcu_register_runtime(RuntimeCore* rt) {
  RuntimeSection section;
  Registry& r = registry();
  std::lock_guard lk(r.mu);
  // Chosen before the first worker can run a reader, and never changed.
  if (g_ordering.load(std::memory_order_relaxed) == static_cast<int>(RcuOrdering::Unknown))
    g_ordering.store(static_cast<int>(choose_ordering()), std::memory_order_relaxed);
  r.runtimes.push_back(RegisteredRuntime{r.next_id++, rt});
}

void rcu_unregister_runtime(RuntimeCore* rt) noexcept {
  RuntimeSection section;
  Registry& r = registry();
  std::lock_guard lk(r.mu);
  for (std::size_t i = 0; i < r.runtimes.size(); ++i) {
    if (r.runtimes[i].rt == rt) {
      r.runtimes.erase(r.runtimes.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
  }
}

void rcu_switch_in_read_section(const Ult* u, const char* what) noexcept {
  std::fprintf(stderr,
               "quanta: ULT %llu tried to %s inside an Rcu read section (a ReadGuard is alive); "
               "expected read sections that do not yield, sleep, join or wait: end the section "
               "first\n",
               static_cast<unsigned long long>(u->id), what);
  std::abort();
}

// --- one Rcu --------------------------------------------------------------

struct RcuRetired {
  void* p;
  std::uint64_t gp;  // GPs started when it was retired
  RcuRetired* next;
};

// A worker that was running a ULT when the GP started, not seen quiescent yet.
struct RcuPendingWorker {
  std::uint64_t runtime_id;
  unsigned worker;
  std::uint64_t switches;
};

struct RcuState {
  // Read by every reader; kept apart from the kernel readers' counters,
  // which kernel readers write.
  alignas(arch::kDestructiveInterference) std::atomic<void*> ptr{nullptr};
  alignas(arch::kDestructiveInterference) std::atomic<std::uint64_t> kernel_readers[2] = {};
  std::atomic<std::uint32_t> kernel_index{0};  // where new kernel readers count; written by the GP

  alignas(arch::kDestructiveInterference) RcuDeleter deleter = nullptr;
  // Everything below is under `mu`.
  Mutex mu;
  RcuRetired* retired_head = nullptr;  // oldest first
  RcuRetired* retired_tail = nullptr;
  std::atomic<std::size_t> retired_count{0};  // written under mu, read by retired()
  std::uint64_t started = 0;    // GPs started
  std::uint64_t completed = 0;  // GPs completed (started - completed <= 1)
  std::vector<RcuPendingWorker> pending;  // the GP in flight: workers left to see
  int kernel_phase = 0;         // the GP in flight: 0, 1 = drain counter, 2 = done
  RcuOrdering gp_mode = RcuOrdering::Unknown;  // the mode its start used
  RcuRetired* to_free = nullptr;  // reclaimable, freed by unlock() after mu

  bool gp_in_flight() const noexcept { return started != completed; }

  void start_gp() {
    pending.clear();
    // The scan below must see every worker's state as of after the new
    // pointer was published (publish() exchanged it, seq_cst).
    RcuOrdering mode;
    {
      RuntimeSection section;  // a ULT holds the registry lock unpreempted
      Registry& r = registry();
      std::lock_guard lk(r.mu);
      mode = rcu_ordering();
      if (!r.runtimes.empty()) writer_barrier(mode, std::memory_order_seq_cst);
      for (const RegisteredRuntime& rr : r.runtimes) {
        for (const auto& w : rr.rt->workers) {
          // A worker running its own context (idle, parked, picking) runs
          // no reader now, and any ULT it runs later sees the new pointer.
          if (w->in_ult.load(std::memory_order_relaxed) == 0 ||
              w->parked.load(std::memory_order_relaxed) != 0)
            continue;
          pending.push_back(RcuPendingWorker{rr.id, w->index,
                                             w->switches.load(std::memory_order_relaxed)});
        }
      }
      if (r.runtimes.empty()) mode = RcuOrdering::Unknown;  // no worker to order with
    }
    gp_mode = mode;
    kernel_phase = 0;
    ++started;
  }

  // Advances the GP in flight; true once it has completed.
  bool poll_gp() {
    if (!pending.empty()) {
      RuntimeSection section;
      Registry& r = registry();
      std::lock_guard lk(r.mu);
      std::size_t keep = 0;
      for (const RcuPendingWorker& p : pending) {
        Worker* w = nullptr;
        for (const RegisteredRuntime& rr : r.runtimes) {
          if (rr.id == p.runtime_id) {
            w = rr.rt->workers[p.worker].get();
            break;
          }
        }
        // A runtime destroyed since: its workers have exited.
        const bool quiescent = !w || w->switches.load(std::memory_order_relaxed) != p.switches ||
                               w->in_ult.load(std::memory_order_relaxed) == 0 ||
                               w->parked.load(std::memory_order_relaxed) != 0;
        if (!quiescent) pending[keep++] = p;
      }
      pending.resize(keep);
      if (!pending.empty()) return false;
    }
    if (kernel_phase == 0) {
      // First the counter new readers do not use: only readers that read
      // the index before the last flip can still arrive there.
      const std::uint32_t idx = kernel_index.load(std::memory_order_relaxed);
      if (kernel_readers[idx ^ 1].load(std::memory_order_seq_cst) != 0) return false;
      kernel_index.store(idx ^ 1, std::memory_order_seq_cst);
      kernel_phase = 1;
    }
    if (kernel_phase == 1) {
      const std::uint32_t idx = kernel_index.load(std::memory_order_relaxed);
      if (kernel_readers[idx ^ 1].load(std::memory_order_seq_cst) != 0) return false;
      kernel_phase = 2;
    }
    // The last quiescent states seen: order the readers' loads before the
    // frees that follow.
    writer_barrier(gp_mode, std::memory_order_acquire);
    ++completed;
    return true;
  }

  // Moves what GP `completed` made safe to to_free.
  void collect() noexcept {
    std::size_t n = 0;
    while (retired_head && retired_head->gp + 1 <= completed) {
      RcuRetired* e = retired_head;
      retired_head = e->next;
      e->next = to_free;
      to_free = e;
      ++n;
    }
    if (!retired_head) retired_tail = nullptr;
    if (n)
      retired_count.store(retired_count.load(std::memory_order_relaxed) - n,
                          std::memory_order_relaxed);
  }

  // Polls the GP in flight, starts one if versions wait and none runs, and
  // collects what is safe. Never waits.
  void advance() {
    if (gp_in_flight() && poll_gp()) collect();
    if (!gp_in_flight() && retired_head) start_gp();
  }
  // The same; a GP that could not start (no memory for the scan) leaves the
  // versions retired, and the next update or synchronize() starts it again.
  void advance_nothrow() noexcept {
    try {
      advance();
    } catch (...) {
    }
  }
};

RcuCore::RcuCore(void* initial, RcuDeleter deleter) {
  try {
    st_ = new RcuState;
  } catch (...) {
    deleter(initial);
    throw;
  }
  st_->deleter = deleter;
  st_->ptr.store(initial, std::memory_order_release);
}

RcuCore::~RcuCore() {
  RcuState* s = st_;
  for (RcuRetired* e = s->to_free; e;) {
    RcuRetired* n = e->next;
    s->deleter(e->p);
    delete e;
    e = n;
  }
  for (RcuRetired* e = s->retired_head; e;) {
    RcuRetired* n = e->next;
    s->deleter(e->p);
    delete e;
    e = n;
  }
  s->deleter(s->ptr.load(std::memory_order_acquire));
  delete s;
}

const void* RcuCore::read_enter(RcuReadToken& token, bool checked) const noexcept {
  if (Ult* u = current_ult()) {
    // From here the ULT neither switches nor moves until read_leave.
    enter_no_preempt(u);
    token.ult = u;
    token.checked = checked;
    if (checked) ++u->rcu_read_depth;
    if (rcu_ordering() == RcuOrdering::Fences) std::atomic_thread_fence(std::memory_order_seq_cst);
    return st_->ptr.load(std::memory_order_acquire);
  }
  ++t_kernel_read_depth;
  const std::uint32_t i = st_->kernel_index.load(std::memory_order_relaxed);
  token.ult = nullptr;
  token.slot = i;
  st_->kernel_readers[i].fetch_add(1, std::memory_order_seq_cst);
  return st_->ptr.load(std::memory_order_seq_cst);
}

void RcuCore::read_leave(const RcuReadToken& token) const noexcept {
  if (token.ult) {
    Ult* u = static_cast<Ult*>(token.ult);
    if (rcu_ordering() == RcuOrdering::Fences) std::atomic_thread_fence(std::memory_order_release);
    if (token.checked) --u->rcu_read_depth;
    leave_no_preempt(u);  // may take a deferred preemption: the section is over
    return;
  }
  st_->kernel_readers[token.slot].fetch_sub(1, std::memory_order_release);
  --t_kernel_read_depth;
}

void RcuCore::lock() noexcept { st_->mu.lock(); }

void RcuCore::unlock() noexcept {
  RcuState* s = st_;
  RcuRetired* list = s->to_free;
  s->to_free = nullptr;
  s->mu.unlock();
  // Destructors run outside the lock: they may use this Rcu.
  while (list) {
    RcuRetired* n = list->next;
    s->deleter(list->p);
    delete list;
    list = n;
  }
}

const void* RcuCore::current() const noexcept {
  return st_->ptr.load(std::memory_order_relaxed);  // writers change it under the lock
}

void RcuCore::publish(void* p) {
  RcuState* s = st_;
  auto* e = new RcuRetired{nullptr, 0, nullptr};  // may throw: nothing changed yet
  e->p = s->ptr.exchange(p, std::memory_order_seq_cst);
  e->gp = s->started;
  if (s->retired_tail)
    s->retired_tail->next = e;
  else
    s->retired_head = e;
  s->retired_tail = e;
  s->retired_count.store(s->retired_count.load(std::memory_order_relaxed) + 1,
                         std::memory_order_relaxed);
  s->advance_nothrow();
}

void RcuCore::synchronize() {
  if (!current_ult() && t_kernel_read_depth != 0) {
    std::fputs(
        "quanta: Rcu::synchronize() was called inside a read section of the calling kernel "
        "thread; it would wait for that section for ever (end the ReadGuard first)\n",
        stderr);
    std::abort();
  }
  RcuState* s = st_;
  std::chrono::microseconds delay = kPollFirst;
  lock();
  // The first GP to start after this call; GPs run one at a time.
  const std::uint64_t target = s->started + 1;
  for (;;) {
    if (s->completed >= target) break;
    if (!s->gp_in_flight()) {
      try {
        s->start_gp();
      } catch (...) {
        unlock();
        throw;
      }
    } else if (s->poll_gp()) {
      s->collect();
      continue;
    }
    unlock();
    // A ULT parks (its worker switches, which is itself a quiescent state);
    // a kernel thread sleeps.
    this_thread::sleep_for(delay);
    delay = std::min(delay * 2, kPollMax);
    lock();
  }
  s->collect();
  s->advance_nothrow();
  unlock();
}

std::size_t RcuCore::reclaim() noexcept {
  lock();
  st_->advance_nothrow();
  const std::size_t n = st_->retired_count.load(std::memory_order_relaxed);
  unlock();
  return n;
}

std::size_t RcuCore::retired() const noexcept {
  return st_->retired_count.load(std::memory_order_relaxed);
}

}  // namespace quanta::detail
