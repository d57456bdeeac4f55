// quanta::detail::HwCounters: opening never fails hard, every unavailable
// event says why (naming the event, the errno and the likely cause),
// available events count monotonically, and page faults are counted for the
// calling thread only.
//
// Where perf_event_open is refused altogether (ENOSYS under QEMU user mode)
// the counting tests skip with the reason, and the reason tests carry the
// weight. Nothing here asserts a timing.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

#include "metrics/perf_counters.hpp"

namespace {

using quanta::detail::HwCounters;
using quanta::detail::HwEvent;
using quanta::detail::HwSnapshot;
using quanta::detail::kHwEvents;
using Event = std::pair<std::uint32_t, std::uint64_t>;

constexpr Event kDefaults[kHwEvents] = {
    {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    {PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
    {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES},
    {PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES},
    {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
};
constexpr const char* kNames[kHwEvents] = {
    "PERF_COUNT_HW_CPU_CYCLES", "PERF_COUNT_HW_INSTRUCTIONS", "PERF_COUNT_HW_CACHE_MISSES",
    "PERF_COUNT_HW_BRANCH_MISSES", "PERF_COUNT_SW_PAGE_FAULTS"};
constexpr Event kPageFaults[] = {{PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS}};

constexpr std::size_t kPages = 256;

HwEvent event(std::size_t i) { return static_cast<HwEvent>(i); }

// Opens (type, config) alone for this thread with the attributes HwCounters
// uses, independently of it; 0 when that works, else the errno.
int probe_errno(Event e) {
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = e.first;
  attr.config = e.second;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  const long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
  if (fd < 0) return errno;
  close(static_cast<int>(fd));
  return 0;
}

// "perf_event_open itself is refused": no event can be counted at all.
bool refused(int err) { return err == ENOSYS || err == EACCES || err == EPERM; }

// Maps n fresh anonymous pages (no huge pages, so each write is one fault),
// writes one byte to each from this thread, and unmaps them.
void touch_fresh_pages(std::size_t n) {
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  void* p = mmap(nullptr, n * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED) << std::strerror(errno);
  madvise(p, n * page, MADV_NOHUGEPAGE);  // advice only: may be refused (QEMU)
  auto* bytes = static_cast<volatile char*>(p);
  for (std::size_t i = 0; i < n; ++i) bytes[i * page] = 1;
  munmap(p, n * page);
}

std::uint64_t read_one(HwCounters& c, HwEvent e) {
  HwSnapshot s;
  c.read(s);
  return s.value[static_cast<std::size_t>(e)];
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(PerfCounters, BeforeOpenNothingIsAvailableAndEverythingSaysSo) {
  HwCounters c;
  EXPECT_FALSE(c.is_open());
  EXPECT_EQ(c.available(), 0u);
  HwSnapshot s;
  std::memset(&s, 0xff, sizeof s);
  c.read(s);
  for (std::size_t i = 0; i < kHwEvents; ++i) {
    EXPECT_EQ(s.value[i], 0u) << kNames[i];
    EXPECT_TRUE(contains(c.reason(event(i)), "open() has not run")) << c.reason(event(i));
  }
}

TEST(PerfCounters, OpenNeverFailsHardAndEveryUnavailableEventSaysWhy) {
  HwCounters c;
  const std::uint32_t mask = c.open();
  EXPECT_TRUE(c.is_open());
  EXPECT_EQ(c.available(), mask);
  EXPECT_EQ(mask & ~((1u << kHwEvents) - 1), 0u) << "mask " << mask;
  for (std::size_t i = 0; i < kHwEvents; ++i) {
    const std::string& why = c.reason(event(i));
    const int probe = probe_errno(kDefaults[i]);
    if (mask & (1u << i)) {
      std::printf("  %-28s available\n", kNames[i]);
      EXPECT_TRUE(why.empty()) << kNames[i] << " is available but has the reason: " << why;
      EXPECT_EQ(probe, 0) << kNames[i]
                          << " opened, yet opening it alone failed: " << std::strerror(probe);
      continue;
    }
    std::printf("  %-28s %s\n", kNames[i], why.c_str());
    EXPECT_TRUE(contains(why, std::string("perf_event_open(") + kNames[i] + "): ")) << why;
    // The errno text is the one the kernel gives for this event on its own.
    ASSERT_NE(probe, 0) << kNames[i] << " opens alone but HwCounters says: " << why;
    EXPECT_TRUE(contains(why, std::strerror(probe)))
        << why << "\nexpected the text of errno " << probe << ": " << std::strerror(probe);
    EXPECT_EQ(why.back(), ')') << "no hint after the errno text: " << why;
  }
}

// A VM without PMU passthrough has no hardware events, and QEMU user mode has
// no perf_event_open at all: the reasons of the hardware events must say which.
TEST(PerfCounters, HardwareEventsWithoutAPmuNameTheCause) {
  HwCounters c;
  c.open();
  if (c.available() & (1u << static_cast<unsigned>(HwEvent::Cycles))) {
    GTEST_SKIP() << "this machine has a hardware PMU (PERF_COUNT_HW_CPU_CYCLES opened), so the "
                    "no-PMU path cannot be seen here";
  }
  const int probe = probe_errno(kDefaults[0]);
  for (std::size_t i = 0; i < 4; ++i) {
    const std::string& why = c.reason(event(i));
    switch (probe) {
      case ENOENT:
      case EOPNOTSUPP:
        EXPECT_TRUE(contains(why, "no hardware PMU")) << why;
        break;
      case ENOSYS:
        EXPECT_TRUE(contains(why, "QEMU user mode")) << why;
        break;
      case EACCES:
      case EPERM:
        EXPECT_TRUE(contains(why, "kernel.perf_event_paranoid")) << why;
        break;
      default:
        EXPECT_FALSE(why.empty()) << kNames[i];
        break;
    }
  }
}

TEST(PerfCounters, AvailableEventsCountMonotonically) {
  HwCounters c;
  const std::uint32_t mask = c.open();
  HwSnapshot first, prev;
  c.read(first);
  prev = first;
  for (int round = 0; round < 8; ++round) {
    touch_fresh_pages(16);
    HwSnapshot now;
    c.read(now);
    for (std::size_t i = 0; i < kHwEvents; ++i) {
      if (mask & (1u << i)) {
        EXPECT_GE(now.value[i], prev.value[i]) << kNames[i] << " went back in round " << round;
      } else {
        EXPECT_EQ(now.value[i], 0u) << kNames[i] << " is unavailable but reads non-zero";
      }
    }
    prev = now;
  }
  // Work was done, so what counts it has moved.
  const auto pf = static_cast<std::size_t>(HwEvent::PageFaults);
  if (mask & (1u << pf)) {
    EXPECT_GT(prev.value[pf], first.value[pf]);
  }
  const auto cyc = static_cast<std::size_t>(HwEvent::Cycles);
  if (mask & (1u << cyc)) {
    EXPECT_GT(prev.value[cyc], first.value[cyc]);
  }
  if (mask == 0) {
    std::printf("  no event is available here; every read gave zeros (reasons: %s)\n",
                c.reason(HwEvent::PageFaults).c_str());
  }
}

// Opens the page-fault event alone in `c`; skips the test where
// perf_event_open is refused, fails it where the event alone did not open.
void open_page_faults(HwCounters& c) {
  if (c.open_for_testing(kPageFaults, 1) != 0) return;
  const std::string& why = c.reason(event(0));
  if (refused(probe_errno(kPageFaults[0]))) {
    GTEST_SKIP() << "perf_event_open is refused here, so nothing can be counted: " << why;
  }
  FAIL() << "PERF_COUNT_SW_PAGE_FAULTS did not open although perf_event_open works: " << why;
}

TEST(PerfCounters, TouchedPagesRaiseThePageFaultCount) {
  HwCounters c;
  open_page_faults(c);
  if (IsSkipped() || HasFatalFailure()) return;
  const std::uint64_t before = read_one(c, event(0));
  touch_fresh_pages(kPages);
  const std::uint64_t touched = read_one(c, event(0));
  const std::uint64_t idle = read_one(c, event(0));
  std::printf("  %zu pages touched: +%llu faults; no touching: +%llu\n", kPages,
              static_cast<unsigned long long>(touched - before),
              static_cast<unsigned long long>(idle - touched));
  EXPECT_GE(touched - before, kPages / 2);
  EXPECT_LT(idle - touched, kPages / 8);
}

// Several events in one group are read with one read(), and each value lands
// in its own slot, also when an event before it failed (the hardware one
// here, on a machine without a PMU).
TEST(PerfCounters, EventsShareOneGroupAndKeepTheirSlots) {
  const Event events[] = {
      {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
      {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
      {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
      {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN},
      {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
  };
  HwCounters c;
  const std::uint32_t mask = c.open_for_testing(events, kHwEvents);
  if (mask == 0) {
    const std::string& why = c.reason(event(0));
    if (refused(probe_errno(events[0]))) {
      GTEST_SKIP() << "perf_event_open is refused here, so nothing can be counted: " << why;
    }
    FAIL() << "no event opened although perf_event_open works: " << why;
  }
  const bool cycles = (mask & 2u) != 0;
  EXPECT_EQ(mask | 2u, 0x1fu) << "a software event failed: " << c.reason(event(0)) << " / "
                              << c.reason(event(2)) << " / " << c.reason(event(3)) << " / "
                              << c.reason(event(4));
  EXPECT_EQ(c.groups_for_testing(), 1u) << "the kernel lets these events share one group";
  HwSnapshot a, b;
  c.read(a);
  touch_fresh_pages(kPages);
  c.read(b);
  EXPECT_GE(b.value[0] - a.value[0], kPages / 2) << "page faults";
  EXPECT_GE(b.value[3] - a.value[3], kPages / 2) << "minor page faults";
  // The task clock counts nanoseconds: far more than the faults, so a value
  // read into the wrong slot would show.
  EXPECT_GT(b.value[2] - a.value[2], b.value[0] - a.value[0]) << "task clock (ns)";
  if (!cycles) {
    EXPECT_EQ(b.value[1], 0u) << "unavailable cycles read non-zero";
  }
}

TEST(PerfCounters, CountsOnlyTheCallingThread) {
  HwCounters c;
  open_page_faults(c);
  if (IsSkipped() || HasFatalFailure()) return;
  const std::uint64_t before = read_one(c, event(0));
  std::uint64_t theirs = 0;
  std::string their_reason;
  std::thread other([&] {
    HwCounters mine;
    if (mine.open_for_testing(kPageFaults, 1) == 0) {
      their_reason = mine.reason(event(0));
      return;
    }
    const std::uint64_t start = read_one(mine, event(0));
    touch_fresh_pages(kPages);
    theirs = read_one(mine, event(0)) - start;
  });
  other.join();
  const std::uint64_t ours = read_one(c, event(0)) - before;
  std::printf("  the other thread touched %zu pages: it counted +%llu, this thread +%llu\n", kPages,
              static_cast<unsigned long long>(theirs), static_cast<unsigned long long>(ours));
  ASSERT_TRUE(their_reason.empty()) << "the second thread could not open: " << their_reason;
  EXPECT_GE(theirs, kPages / 2);
  // Creating the thread faults in a few pages of its stack here (glibc
  // writes the thread descriptor from the creating thread), far below kPages.
  EXPECT_LT(ours, kPages / 4);
}

TEST(PerfCounters, ReasonsNameTheCauseOfEachErrno) {
  using quanta::detail::perf_open_reason;
  using quanta::detail::PerfOpenFailure;
  auto reason = [](int err, bool hardware, bool pmu_seen, int paranoid = -1000,
                   int paranoid_err = 0) {
    PerfOpenFailure f;
    f.event = hardware ? "PERF_COUNT_HW_CPU_CYCLES" : "PERF_COUNT_SW_PAGE_FAULTS";
    f.err = err;
    f.hardware = hardware;
    f.pmu_seen = pmu_seen;
    f.paranoid = paranoid;
    f.paranoid_err = paranoid_err;
    return perf_open_reason(f);
  };
  const std::string head = "perf_event_open(PERF_COUNT_HW_CPU_CYCLES): ";

  std::string r = reason(ENOENT, true, false);
  EXPECT_EQ(r.rfind(head + std::strerror(ENOENT) + " (no hardware PMU", 0), 0u) << r;
  r = reason(ENOENT, true, true);
  EXPECT_TRUE(contains(r, "this CPU's PMU has no counter for this event")) << r;
  r = reason(EOPNOTSUPP, true, false);
  EXPECT_TRUE(contains(r, "no hardware PMU")) << r;

  r = reason(EACCES, true, false, 3);
  EXPECT_TRUE(contains(r, std::strerror(EACCES))) << r;
  EXPECT_TRUE(contains(r, "kernel.perf_event_paranoid is 3;")) << r;
  EXPECT_TRUE(contains(r, "needs 2 or below")) << r;
  r = reason(EPERM, true, false, 2);
  EXPECT_TRUE(contains(r, std::strerror(EPERM))) << r;
  EXPECT_TRUE(contains(r, "kernel.perf_event_paranoid is 2, which allows")) << r;
  EXPECT_TRUE(contains(r, "seccomp")) << r;
  r = reason(EACCES, true, false, quanta::detail::kParanoidUnknown, ENOENT);
  EXPECT_TRUE(contains(r, "could not be read")) << r;
  EXPECT_TRUE(contains(r, std::strerror(ENOENT))) << r;

  r = reason(ENOSYS, false, false);
  EXPECT_EQ(r.rfind("perf_event_open(PERF_COUNT_SW_PAGE_FAULTS): ", 0), 0u) << r;
  EXPECT_TRUE(contains(r, std::strerror(ENOSYS))) << r;
  EXPECT_TRUE(contains(r, "QEMU user mode")) << r;

  r = reason(EIO, true, false);
  EXPECT_TRUE(contains(r, "errno " + std::to_string(EIO))) << r;
}

TEST(PerfCounters, ParanoidSettingIsReadFromTheKernel) {
  int err = 0;
  const int v = quanta::detail::read_perf_event_paranoid(&err);
  if (v == quanta::detail::kParanoidUnknown) {
    std::printf("  kernel.perf_event_paranoid cannot be read here: %s\n", std::strerror(err));
    EXPECT_NE(err, 0);
  } else {
    std::printf("  kernel.perf_event_paranoid = %d\n", v);
    EXPECT_GE(v, -1);
  }
}

// The EACCES/EPERM path for real: a child process denies itself
// perf_event_open with a seccomp filter (as container runtimes do), opens,
// and sends its reasons back.
TEST(PerfCounters, ASeccompDenialNamesTheParanoidSettingAndTheFilter) {
  if (probe_errno(kPageFaults[0]) == ENOSYS) {
    GTEST_SKIP() << "perf_event_open is not implemented here (ENOSYS), so a seccomp denial "
                    "cannot be told from it";
  }
  int fds[2];
  ASSERT_EQ(pipe(fds), 0) << std::strerror(errno);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0) << std::strerror(errno);
  if (pid == 0) {
    close(fds[0]);
    // No architecture check in the filter: it runs in this child only, and a
    // syscall of another ABI that it fails to deny would only fail the test.
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_perf_event_open, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog = {static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
      const std::string msg = std::string("seccomp: ") + std::strerror(errno);
      (void)!write(fds[1], msg.data(), msg.size());
      _exit(2);
    }
    HwCounters c;
    std::string out = std::to_string(c.open()) + "\n";
    for (std::size_t i = 0; i < kHwEvents; ++i) out += c.reason(event(i)) + "\n";
    (void)!write(fds[1], out.data(), out.size());
    _exit(0);
  }
  close(fds[1]);
  std::string got;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
    got.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child status " << status;
  if (WEXITSTATUS(status) == 2) GTEST_SKIP() << "cannot install a seccomp filter here: " << got;
  ASSERT_EQ(WEXITSTATUS(status), 0) << got;

  int err = 0;
  const int paranoid = quanta::detail::read_perf_event_paranoid(&err);
  std::size_t pos = got.find('\n');
  EXPECT_EQ(got.substr(0, pos), "0") << "events opened despite the filter: " << got;
  for (std::size_t i = 0; i < kHwEvents; ++i) {
    const std::size_t next = got.find('\n', pos + 1);
    const std::string why = got.substr(pos + 1, next - pos - 1);
    pos = next;
    std::printf("  %-28s %s\n", kNames[i], why.c_str());
    EXPECT_TRUE(
        contains(why, std::string("perf_event_open(") + kNames[i] + "): " + std::strerror(EPERM)))
        << why;
    if (paranoid == quanta::detail::kParanoidUnknown) {
      EXPECT_TRUE(contains(why, "could not be read")) << why;
    } else {
      EXPECT_TRUE(contains(why, "kernel.perf_event_paranoid is " + std::to_string(paranoid)))
          << why;
      if (paranoid <= 2) {
        EXPECT_TRUE(contains(why, "seccomp")) << why;
      }
    }
  }
}

TEST(PerfCounters, OpenForTestingNamesUnknownEventsAndUnrequestedSlots) {
  const Event bogus[] = {{PERF_TYPE_SOFTWARE, 0x7fff}};
  HwCounters c;
  EXPECT_EQ(c.open_for_testing(bogus, 1), 0u);
  const std::string& why = c.reason(event(0));
  std::printf("  %s\n", why.c_str());
  EXPECT_TRUE(contains(why, "perf_event_open(type=1 config=0x7fff): ")) << why;
  for (std::size_t i = 1; i < kHwEvents; ++i) {
    EXPECT_TRUE(contains(c.reason(event(i)), "not requested")) << c.reason(event(i));
  }
  EXPECT_EQ(quanta::detail::perf_event_name(PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES),
            "PERF_COUNT_HW_CPU_CYCLES");
  EXPECT_EQ(quanta::detail::perf_event_name(PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS),
            "PERF_COUNT_SW_PAGE_FAULTS");
}

TEST(PerfCounters, TooManyTestEventsIsAUsageError) {
  GTEST_FLAG_SET(death_test_style, "fast");
  const Event six[6] = {};
  EXPECT_DEATH(
      {
        HwCounters c;
        c.open_for_testing(six, 6);
      },
      "open_for_testing: n = 6 events, expected at most 5");
}

TEST(PerfCounters, MultiplexedIntervalsAreScaledByTheirOwnRatio) {
  using quanta::detail::scale_interval;
  EXPECT_EQ(scale_interval(100, 10, 10), 100u);  // ran throughout: exact
  EXPECT_EQ(scale_interval(100, 20, 10), 200u);  // on the PMU half the time
  EXPECT_EQ(scale_interval(1'000'000'007, 3, 2), 1'500'000'010u);
  EXPECT_EQ(scale_interval(0, 30, 0), 0u);                      // never ran: nothing added
  EXPECT_EQ(scale_interval(UINT64_MAX / 2, 4, 1), UINT64_MAX);  // saturates
  // Large counts and times do not overflow in between.
  EXPECT_EQ(scale_interval(1ull << 40, 3ull << 40, 1ull << 40), 3ull << 40);
}

}  // namespace
