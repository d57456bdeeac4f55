// A preempted ULT may resume on another worker. It must then run with that
// worker's thread state: its sigaltstack (rt_sigreturn re-installs the one
// saved in the signal frame), its thread pointer (restored from the frame on
// RISC-V), the ULT's own errno, and the preemption signal unblocked.
#include <gtest/gtest.h>

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <set>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

thread_local int tls_marker = 0;

// Read through a call the compiler cannot see through, so the address is
// computed from the current thread pointer every time.
[[gnu::noinline]] int* marker_address() {
  asm volatile("" ::: "memory");
  return &tls_marker;
}

// errno, like any thread-local, is reached in two steps: compute the
// thread's address of it, then access it. A preemption that moves the ULT
// between the two steps (or a compiler that keeps the address across a
// switch) makes the access hit the old thread's errno: the thread_local
// hazard documented in docs/preemption.md. Each access here is therefore
// made in one NoPreempt scope; what is checked is that the ULT's errno
// value, saved and restored by the handler, follows it to the new worker.
[[gnu::noinline]] void set_errno(int v) {
  quanta::NoPreempt atomic_access;
  errno = v;
}
[[gnu::noinline]] int get_errno() {
  quanta::NoPreempt atomic_access;
  return errno;
}

struct Observed {
  long iterations = 0;
  long bad_errno = 0;
  long bad_altstack = 0;
  long bad_tls = 0;
  long signal_blocked = 0;
  std::set<unsigned> workers;
};

TEST(PreemptMigration, ResumedUltsUseTheirNewWorkersThreadState) {
  quanta::Runtime rt(quanta::test::preemptive(2, 100us));
  rt.impl().preempt_migrate_for_testing = true;
  auto workers = quanta::test::workers_of(rt);

  std::atomic<bool> stop{false};
  // Keep every worker busy so preempted ULTs always have somewhere to go.
  std::vector<quanta::JoinHandle<Observed>> hs;
  for (int u = 0; u < 6; ++u) {
    hs.push_back(rt.spawn([&, u] {
      Observed o;
      const int my_errno = 1000 + u;
      while (!stop.load(std::memory_order_relaxed)) {
        set_errno(my_errno);
        quanta::test::burn(500);
        if (get_errno() != my_errno) ++o.bad_errno;
        quanta::NoPreempt check;  // read worker state without being moved meanwhile
        const unsigned w = quanta::test::worker_index();
        o.workers.insert(w);
        stack_t ss{};
        sigaltstack(nullptr, &ss);
        if (ss.ss_sp != workers[w]->altstack) ++o.bad_altstack;
        int* m = marker_address();
        if (*m == 0) *m = static_cast<int>(w) + 1;  // first visit of this thread
        if (*m != static_cast<int>(w) + 1) ++o.bad_tls;
        sigset_t set;
        pthread_sigmask(SIG_SETMASK, nullptr, &set);
        if (sigismember(&set, SIGURG)) ++o.signal_blocked;
        ++o.iterations;
      }
      return o;
    }));
  }
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(quanta::test::eventually([&] { return quanta::preemption_stats(rt).total.taken > 100; }));
  stop = true;
  long migrated = 0;
  for (auto& h : hs) {
    Observed o = h.join();
    EXPECT_EQ(o.bad_errno, 0);
    EXPECT_EQ(o.bad_altstack, 0) << "a worker ran with another worker's sigaltstack";
    EXPECT_EQ(o.bad_tls, 0) << "a ULT ran with another thread's thread pointer";
    EXPECT_EQ(o.signal_blocked, 0) << "the preemption signal stayed blocked";
    EXPECT_GT(o.iterations, 0);
    if (o.workers.size() > 1) ++migrated;
  }
  auto st = quanta::preemption_stats(rt);
  std::printf("preemptions taken %llu, ULTs that ran on both workers: %ld of 6\n",
              static_cast<unsigned long long>(st.total.taken), migrated);
  EXPECT_GT(migrated, 0) << "no ULT was moved: the test did not test anything";
}

TEST(PreemptMigration, MigratedUltsFinishWithRightResults) {
  quanta::Runtime rt(quanta::test::preemptive(2, 100us));
  rt.impl().preempt_migrate_for_testing = true;
  std::vector<quanta::JoinHandle<unsigned long>> hs;
  for (int u = 0; u < 8; ++u) {
    hs.push_back(rt.spawn([u] {
      unsigned long h = 1469598103934665603ul + u;
      for (long i = 0; i < 20'000'000; ++i) h = (h ^ static_cast<unsigned long>(i)) * 1099511628211ul;
      return h;
    }));
  }
  for (int u = 0; u < 8; ++u) {
    unsigned long h = 1469598103934665603ul + u;
    for (long i = 0; i < 20'000'000; ++i) h = (h ^ static_cast<unsigned long>(i)) * 1099511628211ul;
    EXPECT_EQ(hs[u].join(), h);
  }
}

}  // namespace

namespace {

TEST(PreemptErrno, ErrnoSurvivesPreemptionOnOneWorker) {
  quanta::Runtime rt(quanta::test::preemptive(1, 100us));
  std::atomic<bool> stop{false};
  std::vector<quanta::JoinHandle<std::pair<long, std::uint64_t>>> hs;
  for (int u = 0; u < 4; ++u) {
    hs.push_back(rt.spawn([&, u] {
      long bad = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        errno = 2000 + u;  // the handler saves and restores it around a switch
        quanta::test::burn(2000);
        if (errno != 2000 + u) ++bad;
      }
      return std::make_pair(bad, quanta::this_thread::preemption_counters().taken);
    }));
  }
  // Until enough preemptions happened (slow or loaded machines need longer).
  EXPECT_TRUE(quanta::test::eventually([&] { return quanta::preemption_stats(rt).total.taken > 20; }));
  stop = true;
  std::uint64_t taken = 0;
  for (auto& h : hs) {
    auto [bad, t] = h.join();
    EXPECT_EQ(bad, 0);
    taken += t;
  }
  EXPECT_GT(taken, 10u);
}

}  // namespace
