// quanta — the SIGSEGV guard-page handler and the overflow report.
#include "stack/overflow.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "core/ult.hpp"
#include "core/worker.hpp"

namespace quanta::detail {
namespace {

struct sigaction g_previous;

void put(char*& p, char* end, const char* s) noexcept {
  while (*s && p < end) *p++ = *s++;
}

void put_u64(char*& p, char* end, unsigned long long v) noexcept {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  while (n && p < end) *p++ = digits[--n];
}

void on_sigsegv(int sig, siginfo_t* info, void* uctx) {
  if (Worker* w = current_worker()) {
    const Ult* u = w->current;
    if (u && u->stack.guarded) {
      const char* addr = static_cast<const char*>(info->si_addr);
      if (addr >= u->stack.guard_begin() && addr < u->stack.base) report_stack_overflow(u, false);
    }
  }
  // Not ours: hand over to whoever was there before.
  if (g_previous.sa_flags & SA_SIGINFO) {
    if (g_previous.sa_sigaction) {
      g_previous.sa_sigaction(sig, info, uctx);
      return;
    }
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(sig);
    return;
  }
  // Default action: restore it and return; the faulting access repeats and
  // the kernel delivers the default (core dump).
  signal(SIGSEGV, SIG_DFL);
}

}  // namespace

void report_stack_overflow(const Ult* u, bool by_canary) noexcept {
  char buf[512];
  char* p = buf;
  char* end = buf + sizeof buf - 1;
  put(p, end, "quanta: stack overflow in ULT ");
  put_u64(p, end, u->id);
  put(p, end, " \"");
  put(p, end, u->name ? u->name : "");
  put(p, end, "\" (stack ");
  put_u64(p, end, u->stack.size);
  put(p, end, " bytes)");
  if (by_canary) put(p, end, ", found by its canary");
  put(p, end, "\n");
  ssize_t ignored = ::write(STDERR_FILENO, buf, static_cast<std::size_t>(p - buf));
  (void)ignored;
  std::abort();
}

void install_overflow_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_sigsegv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    // No preemption while reporting on the signal stack.
    sigaddset(&sa.sa_mask, SIGURG);
    sigaction(SIGSEGV, &sa, &g_previous);
  });
}

}  // namespace quanta::detail
