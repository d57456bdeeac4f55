// quanta — the preemption signal handler.
#include "preempt/signal.hpp"

#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

#include "arch/signal_ctx.hpp"
#include "core/clock.hpp"
#include "core/no_preempt.hpp"
#include "core/placement.hpp"
#include "core/runtime_core.hpp"
#include "core/worker.hpp"
#include "preempt/safe_points.hpp"

namespace quanta::detail {
namespace {

struct sigaction g_previous;

void chain(int sig, siginfo_t* info, void* uctx) {
  if (g_previous.sa_flags & SA_SIGINFO) {
    if (g_previous.sa_sigaction) g_previous.sa_sigaction(sig, info, uctx);
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(sig);
  }
}

void count(std::atomic<std::uint64_t>& c) noexcept {
  c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// Tells the monitor when the ULT about to be switched in starts (the switch
// about to happen bumps `switches` by one). Time first, count second: a
// monitor that sees the count sees this time or a later one, which only
// makes it preempt later.
void note_preempt_switch(Worker& w) noexcept {
  w.preempt_switch_ns.store(now_ns(), std::memory_order_relaxed);
  w.preempt_switch_count.store(w.switches.load(std::memory_order_relaxed) + 1,
                               std::memory_order_release);
}

// The handler's own code is never a safe point, though it lies in the
// executable: after it has left its section (no_preempt back to 0) and before
// rt_sigreturn, a nested SIGURG would otherwise switch the ULT out there and
// resume it on another worker, and the frame it then returns through would
// carry the thread pointer and sigaltstack of the worker it left (seen as
// TLS of the wrong thread under RISC-V). The section's bounds are excluded in
// preemptible_pc (safe_points.cpp).
__attribute__((section("quanta_nopreempt"), noinline))
void on_preempt(int sig, siginfo_t* info, void* uctx) {
  if (info->si_code != SI_TKILL || info->si_pid != ::getpid()) {
    chain(sig, info, uctx);
    return;
  }
  const int saved_errno = errno;
  Worker* w = current_worker();
  if (!w) return;  // not a worker thread
  Ult* u = running_ult(w);
  if (!u) {  // the worker loop: the ULT signalled has switched out already
    count(w->preempt_ignored);
    return;
  }
  auto* uc = static_cast<ucontext_t*>(uctx);
  // Safe only in preemptible code *on the ULT's own stack*: not in code
  // running on a signal stack (an application's SA_ONSTACK handler) or any
  // other stack the runtime does not own.
  const std::uintptr_t sp = arch::signal_sp(uc);
  const auto lo = reinterpret_cast<std::uintptr_t>(u->stack.base);
  if (u->no_preempt.load(std::memory_order_relaxed) != 0 || sp <= lo || sp > lo + u->stack.size ||
      !preemptible_pc(arch::signal_pc(uc))) {
    u->preempt_pending.store(true, std::memory_order_relaxed);
    ++u->preempt_deferred;
    count(w->preempt_deferred);
    errno = saved_errno;
    return;
  }

  enter_no_preempt(u);
  if (Ult* next = w->pick(u->priority)) {
    count(u->preempt_taken);
    count(w->preempt_taken);
    // The kernel blocked the signal for the handler's duration; the ULTs
    // that run next must not inherit that (see signal.hpp). A ULT that was
    // itself preempted resumes in this handler and leaves through
    // rt_sigreturn, which restores its unblocked mask: only then can the
    // system call be saved (spinning ULTs preempting one another).
    if (!next->in_signal) {
      sigset_t urg;
      sigemptyset(&urg);
      sigaddset(&urg, kPreemptSignal);
      pthread_sigmask(SIG_UNBLOCK, &urg, nullptr);
    }
    u->in_signal = true;
    w->after_ult = u;
    if (w->rt->preempt_migrate_for_testing.load(std::memory_order_relaxed) &&
        w->rt->workers.size() > 1 &&
        may_run_on(u, *w->rt->workers[(w->index + 1) % w->rt->workers.size()])) {
      // Tests: resume the ULT on another worker (one it may run on).
      w->after = After::Park;
      w->park_commit = [](void* arg, Ult* self) noexcept {
        auto* from = static_cast<Worker*>(arg);
        Worker* to = from->rt->workers[(from->index + 1) % from->rt->workers.size()].get();
        to->inbox.push(self);
        to->notify();
        return true;
      };
      w->park_arg = w;
    } else {
      w->after = After::Preempted;
    }
    note_preempt_switch(*w);
    w->switch_to(next);
    w = current_worker();  // resumed, maybe on another worker
    u->in_signal = false;
  } else {
    count(w->preempt_ignored);  // nobody waits any more
  }

  // rt_sigreturn re-installs the sigaltstack saved in the frame: make it ours.
  if (w->altstack) {
    uc->uc_stack.ss_sp = w->altstack;
    uc->uc_stack.ss_size = w->altstack_size;
    uc->uc_stack.ss_flags = 0;
  } else {
    uc->uc_stack.ss_sp = nullptr;
    uc->uc_stack.ss_size = 0;
    uc->uc_stack.ss_flags = SS_DISABLE;
  }
  arch::adopt_thread_pointer(uc);

  // Leave without taking a pending preemption: this one was just taken.
  u->preempt_pending.store(false, std::memory_order_relaxed);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  u->no_preempt.store(u->no_preempt.load(std::memory_order_relaxed) - 1,
                      std::memory_order_relaxed);
  // Not `errno = saved_errno`: the compiler may reuse errno's address computed
  // on entry, which after a migration is the old thread's errno.
  *w->errno_ptr = saved_errno;
}

}  // namespace

void install_preempt_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    init_safe_points();
    struct sigaction sa {};
    sa.sa_sigaction = on_preempt;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(kPreemptSignal, &sa, &g_previous);
  });
}

void take_pending_preemption(Ult* u) noexcept {
  u->preempt_pending.store(false, std::memory_order_relaxed);
  enter_no_preempt(u);
  Worker* w = u->worker;  // read inside the section: not moved any more
  if (Ult* next = w->pick(u->priority)) {
    count(u->preempt_taken);
    ++u->preempt_deferred_taken;
    count(w->preempt_taken);
    count(w->preempt_deferred_taken);
    w->after = After::Preempted;
    w->after_ult = u;
    note_preempt_switch(*w);
    w->switch_to(next);
  }
  std::atomic_signal_fence(std::memory_order_seq_cst);
  u->no_preempt.store(u->no_preempt.load(std::memory_order_relaxed) - 1,
                      std::memory_order_relaxed);
}

}  // namespace quanta::detail
