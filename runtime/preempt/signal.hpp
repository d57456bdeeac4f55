// quanta — the preemption signal and its handler.
//
// The signal is SIGURG, as in Go: the kernel sends it only for out-of-band
// socket data, applications rarely use it, and its default action is to
// ignore it, so a stray one does no harm. A SIGURG that quanta did not send
// (si_code != SI_TKILL or another sender) goes to the handler installed before.
//
// The handler runs on the interrupted ULT's own stack (no SA_ONSTACK): the
// kernel's signal frame there holds the full register and vector state, and
// the ULT, once switched out, keeps it until it resumes. Flags:
//   SA_RESTART  restartable system calls interrupted in foreign code resume;
//               non-restartable ones (poll, epoll_wait, nanosleep, ...)
//               return EINTR, as with any signal.
//   no SA_NODEFER, deliberately: with it a second SIGURG can arrive in the
//               first instructions of the handler, before it has marked the
//               ULT as not preemptible; the handler's own code is in the
//               executable, so the nested handler would preempt — and the
//               outer one may have interrupted malloc holding its arena lock
//               (a deadlock seen in the allocator stress test). Instead the
//               kernel keeps SIGURG blocked while the handler decides, and the
//               handler unblocks it itself right before it switches to another
//               ULT, so no ULT ever runs with the signal blocked. rt_sigreturn
//               restores the mask of the interrupted code.
// On return (possibly on another worker after a migration) it
//   * restores errno,
//   * writes this worker's sigaltstack into the frame, since rt_sigreturn
//     re-installs the one saved at delivery (the old worker's), and
//   * on RISC-V writes this thread's tp into the frame (arch::adopt_thread_pointer).
#pragma once
#include <csignal>

namespace quanta::detail {

inline constexpr int kPreemptSignal = SIGURG;

// Idempotent.
void install_preempt_handler();

}  // namespace quanta::detail
