// quanta — hardware (and software) event counters of one kernel thread, read
// through perf_event_open(2).
//
// What it is for. A worker opens one HwCounters on its own kernel thread and
// leaves the counters running. To charge a profiled ULT, the scheduler reads a
// snapshot when it switches the ULT in and another when it switches it out,
// and adds the difference to the ULT. There is no ioctl per switch: enabling
// and disabling counters costs a syscall each, reading a group costs one for
// all of its events.
//
// Groups. Events that share a group are scheduled onto the PMU together and
// read together with one read() (PERF_FORMAT_GROUP). open() tries to put each
// event into a group that is already open and opens it on its own, as the
// leader of a new group, only when no group takes it. The kernel lets a
// software event join a hardware group ("safe because software events never
// fail to schedule", kernel/events/core.c, perf_event_open), so where a PMU
// exists all five events normally share one group and a snapshot is one
// read(). The price: a software event in a hardware group counts only while
// that group is on the PMU, and is scaled like the hardware events (below).
// Where there is no PMU (a VM without PMU passthrough) the hardware events
// fail with ENOENT and page faults form a group of their own. A hardware
// event that no group takes (a group larger than the PMU has counters makes
// the kernel answer EINVAL) becomes the leader of another group and is read
// with a read() of its own.
//
// Multiplexing. When a thread's groups need more counters than the PMU has,
// the kernel rotates the groups, and each group reports time_enabled (time
// the event was enabled for the thread) and time_running (time it was
// actually on the PMU) (PERF_FORMAT_TOTAL_TIME_ENABLED / _RUNNING). read()
// scales each interval between two reads on its own:
//     count += Δvalue × Δenabled / Δrunning        when Δrunning < Δenabled
// and adds Δvalue unchanged when the group ran all the time. Scaling the
// increments, not the totals, keeps every snapshot monotonic (value ×
// enabled / running of the totals can go down when the ratio improves), so
// "after − before" is never negative, and each ULT's interval is estimated
// from the ratio seen during that interval. An interval in which the group
// never ran (Δrunning = 0) adds nothing: the estimate is low, not invented.
// Without multiplexing the counts are exact.
//
// Privileges. Every event counts user space only (exclude_kernel,
// exclude_hv), which is what kernel.perf_event_paranoid = 2, the upstream
// default, allows an unprivileged process for its own threads. Events that
// fail are unavailable, and reason() says why, with a hint for the usual
// causes (no PMU, perf_event_paranoid, a seccomp filter, QEMU user mode).
//
// Known limits. On hybrid x86 CPUs the kernel opens a generic hardware event
// on one of the core types' PMUs, so it counts only while the thread runs on
// that kind of core. Counters of a thread are read on that thread; reading
// them elsewhere works but gives that thread's counts, not the reader's.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace quanta::detail {

enum class HwEvent : std::uint8_t { Cycles, Instructions, CacheMisses, BranchMisses, PageFaults };
inline constexpr std::size_t kHwEvents = 5;

// Counts since open(), indexed by HwEvent (scaled when multiplexed, see
// above); 0 for events that are not available.
struct HwSnapshot {
  std::uint64_t value[kHwEvents];
};

// The counters of one kernel thread (a quanta worker), read on that thread. Not thread-safe: one thread uses an object at a time.
class HwCounters {
 public:
  HwCounters() = default;
  ~HwCounters();  // closes the counters
  HwCounters(const HwCounters&) = delete;
  HwCounters& operator=(const HwCounters&) = delete;

  // Opens the events for thread `tid` of this process (0: the calling
  // thread), counting user space only (exclude_kernel, exclude_hv: what
  // perf_event_paranoid=2 allows), and starts them. Another thread's events
  // may be opened without stopping it; they are read on that thread. Closes whatever this object had open before (the counts
  // start again from 0). Never throws; returns the mask of the events that
  // opened (bit i = HwEvent i). Events that fail are unavailable and keep
  // their reason.
  std::uint32_t open(int tid = 0) noexcept;

  // For tests: opens events[i] = (perf type, config) in slot i, in place of
  // the defaults, with the same attributes and grouping; slots from n on stay
  // unavailable. n above kHwEvents is a usage error (one line on stderr,
  // abort).
  std::uint32_t open_for_testing(const std::pair<std::uint32_t, std::uint64_t>* events,
                                 std::size_t n) noexcept;

  // Whether open() (or open_for_testing) has run on this object, whatever it
  // opened: a caller that opens lazily uses it so that it does not retry
  // events that failed. available() says which events count.
  bool is_open() const noexcept { return opened_; }
  std::uint32_t available() const noexcept { return available_; }
  // How many groups, and so read() syscalls, a snapshot takes (for tests).
  std::size_t groups_for_testing() const noexcept { return groups_; }

  // Why event e is unavailable, e.g.
  //   "perf_event_open(PERF_COUNT_HW_CPU_CYCLES): No such file or directory
  //    (no hardware PMU: a VM without PMU passthrough, or a CPU the kernel
  //    has no PMU driver for)"
  // (one line); empty when e is available.
  const std::string& reason(HwEvent e) const noexcept;

  // Current counts of the available events (others 0): one read() per group
  // (one in all when the events share a group), no allocation, errno
  // preserved, async-signal-safe. Monotonic: each value is at least the one
  // the previous read() returned. If a read() fails, that group's values
  // stay where they were. Not reentrant on one object: a signal handler must
  // not call it while it interrupts read() of the same object (the
  // runtime's switch paths run inside a RuntimeSection, which excludes that).
  void read(HwSnapshot& out) noexcept;

 private:
  struct Slot {
    int fd = -1;
    std::uint64_t last_raw = 0;  // the kernel's count at the previous read()
    std::uint64_t total = 0;     // what read() returns: scaled increments
  };
  struct Group {
    int leader_fd = -1;
    std::uint8_t members = 0;
    std::uint8_t member_slot[kHwEvents] = {};  // in the order the kernel reports them
    std::uint64_t last_enabled = 0, last_running = 0;
  };

  std::uint32_t open_events(const std::pair<std::uint32_t, std::uint64_t>* events,
                            std::size_t n, int tid) noexcept;
  void close_all() noexcept;

  Slot slot_[kHwEvents];
  Group group_[kHwEvents];
  std::size_t groups_ = 0;
  std::uint32_t available_ = 0;
  bool opened_ = false;
  std::string reason_[kHwEvents];
};

// ---- parts exposed for the tests --------------------------------------------

// The scaled increment of one interval: dv × de / dr when 0 < dr < de,
// otherwise dv (the group ran throughout, or never ran and dv is 0).
// Saturates at UINT64_MAX instead of wrapping.
std::uint64_t scale_interval(std::uint64_t dv, std::uint64_t de, std::uint64_t dr) noexcept;

// The perf_event.h name of a (type, config) pair, e.g.
// "PERF_COUNT_HW_CPU_CYCLES", "PERF_COUNT_SW_PAGE_FAULTS", or
// "type=7 config=0x1f" for pairs without a generic name.
std::string perf_event_name(std::uint32_t type, std::uint64_t config);

// What reason() says about a failed perf_event_open.
inline constexpr int kParanoidUnknown = -1000;
struct PerfOpenFailure {
  std::string_view event;           // perf_event_name()
  int err = 0;                      // errno of perf_event_open
  bool hardware = false;            // a PERF_TYPE_HARDWARE / HW_CACHE / RAW event
  bool pmu_seen = false;            // another hardware event opened on this thread
  int paranoid = kParanoidUnknown;  // kernel.perf_event_paranoid (EACCES/EPERM only)
  int paranoid_err = 0;             // why it could not be read, when kParanoidUnknown
};
std::string perf_open_reason(const PerfOpenFailure& f);

// kernel.perf_event_paranoid, or kParanoidUnknown with *err set.
int read_perf_event_paranoid(int* err) noexcept;

}  // namespace quanta::detail
