// quanta — hardware event counters through perf_event_open (see
// perf_counters.hpp for the grouping and scaling rules).
#include "metrics/perf_counters.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>

// Every ISA quanta builds for (x86_64, aarch64, riscv64) has the syscall and
// the header; the guard keeps a port without them compiling, with every
// event unavailable and a reason that says so. (PERF_FORMAT_* and
// PERF_TYPE_* are enumerators, not macros: test for the header itself.)
#if __has_include(<linux/perf_event.h>) && __has_include(<sys/syscall.h>)
#include <linux/perf_event.h>
#include <sys/syscall.h>
#if defined(SYS_perf_event_open)
#define QUANTA_HAVE_PERF_EVENT_OPEN 1
#endif
#endif
#ifndef QUANTA_HAVE_PERF_EVENT_OPEN
#define QUANTA_HAVE_PERF_EVENT_OPEN 0
#endif

namespace quanta::detail {
namespace {

// The perf ABI's numbers (stable since Linux 2.6.31), spelled out so that the
// defaults and names exist even where the build has no <linux/perf_event.h>.
constexpr std::uint32_t kTypeHardware = 0, kTypeSoftware = 1, kTypeTracepoint = 2, kTypeHwCache = 3,
                        kTypeRaw = 4, kTypeBreakpoint = 5;
constexpr std::uint64_t kHwCpuCycles = 0, kHwInstructions = 1, kHwCacheMisses = 3,
                        kHwBranchMisses = 5, kSwPageFaults = 2;
constexpr std::uint64_t kFormatTotalTimeEnabled = 1u << 0, kFormatTotalTimeRunning = 1u << 1,
                        kFormatGroup = 1u << 3;
#if QUANTA_HAVE_PERF_EVENT_OPEN
static_assert(kTypeHardware == PERF_TYPE_HARDWARE && kTypeSoftware == PERF_TYPE_SOFTWARE &&
              kTypeTracepoint == PERF_TYPE_TRACEPOINT && kTypeHwCache == PERF_TYPE_HW_CACHE &&
              kTypeRaw == PERF_TYPE_RAW && kTypeBreakpoint == PERF_TYPE_BREAKPOINT);
static_assert(kHwCpuCycles == PERF_COUNT_HW_CPU_CYCLES &&
              kHwInstructions == PERF_COUNT_HW_INSTRUCTIONS &&
              kHwCacheMisses == PERF_COUNT_HW_CACHE_MISSES &&
              kHwBranchMisses == PERF_COUNT_HW_BRANCH_MISSES &&
              kSwPageFaults == PERF_COUNT_SW_PAGE_FAULTS);
static_assert(kFormatTotalTimeEnabled == PERF_FORMAT_TOTAL_TIME_ENABLED &&
              kFormatTotalTimeRunning == PERF_FORMAT_TOTAL_TIME_RUNNING &&
              kFormatGroup == PERF_FORMAT_GROUP);
#endif

// Every event is read as part of a group (a lone event is a group of one),
// so one layout serves all reads:
//   { u64 nr; u64 time_enabled; u64 time_running; u64 value[nr]; }
// The values come leader first, then the siblings in the order they joined
// (perf_group_attach appends to the leader's sibling list; perf_read_group
// walks it).
constexpr std::uint64_t kReadFormat =
    kFormatGroup | kFormatTotalTimeEnabled | kFormatTotalTimeRunning;
constexpr std::size_t kReadHeader = 3;

constexpr std::pair<std::uint32_t, std::uint64_t> kDefaultEvents[kHwEvents] = {
    {kTypeHardware, kHwCpuCycles},     // HwEvent::Cycles
    {kTypeHardware, kHwInstructions},  // HwEvent::Instructions
    {kTypeHardware, kHwCacheMisses},   // HwEvent::CacheMisses
    {kTypeHardware, kHwBranchMisses},  // HwEvent::BranchMisses
    {kTypeSoftware, kSwPageFaults},    // HwEvent::PageFaults
};

bool is_hardware_type(std::uint32_t type) {
  return type == kTypeHardware || type == kTypeHwCache || type == kTypeRaw;
}

// perf_event_open for the calling thread on any CPU, user space only; -1
// with errno set on failure.
int perf_open(std::uint32_t type, std::uint64_t config, int group_fd, int tid) noexcept {
#if QUANTA_HAVE_PERF_EVENT_OPEN
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = type;
  attr.config = config;
  attr.read_format = kReadFormat;
  attr.disabled = 0;  // count from now on, continuously
  attr.inherit = 0;   // this thread only, not threads it creates
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  unsigned long flags = 0;
#ifdef PERF_FLAG_FD_CLOEXEC
  flags |= PERF_FLAG_FD_CLOEXEC;
#endif
  const long fd =
      syscall(SYS_perf_event_open, &attr, tid /* 0: this thread */, -1 /* any CPU */, group_fd, flags);
  if (fd < 0) return -1;
#ifndef PERF_FLAG_FD_CLOEXEC
  fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
#endif
  return static_cast<int>(fd);
#else
  (void)type, (void)config, (void)group_fd;
  errno = ENOSYS;
  return -1;
#endif
}

// strerror_r is the GNU one (char*) with glibc and _GNU_SOURCE, the XSI one
// (int) elsewhere.
[[maybe_unused]] const char* errtext(int r, const char* buf) {
  return r == 0 ? buf : "unknown error";
}
[[maybe_unused]] const char* errtext(const char* r, const char*) { return r; }

std::string error_text(int err) {
  char buf[128];
  buf[0] = '\0';
  return errtext(strerror_r(err, buf, sizeof buf), buf);
}

std::string paranoid_hint(const PerfOpenFailure& f) {
  constexpr const char* kNeed =
      "counting one's own threads in user space needs 2 or below "
      "(sysctl kernel.perf_event_paranoid=2), or CAP_PERFMON";
  if (f.paranoid == kParanoidUnknown) {
    return "kernel.perf_event_paranoid could not be read (/proc/sys/kernel/perf_event_paranoid: " +
           error_text(f.paranoid_err) + "); " + kNeed;
  }
  if (f.paranoid > 2) {
    return "kernel.perf_event_paranoid is " + std::to_string(f.paranoid) + "; " + kNeed;
  }
  return "kernel.perf_event_paranoid is " + std::to_string(f.paranoid) +
         ", which allows counting one's own threads in user space, so something else refused "
         "it: a seccomp filter (container runtimes' default profiles deny perf_event_open) or "
         "a security module";
}

constexpr const char* kNoPmu =
    "no hardware PMU: a VM without PMU passthrough, or a CPU the kernel has no PMU driver for";

std::string hint(const PerfOpenFailure& f) {
  switch (f.err) {
    case ENOENT:
      if (!f.hardware) return "the kernel has no PMU that knows this type and config";
      return f.pmu_seen ? "this CPU's PMU has no counter for this event" : kNoPmu;
    case EOPNOTSUPP:
      if (f.hardware && !f.pmu_seen) return kNoPmu;
      return "the PMU cannot count it as asked: user space only, without kernel and hypervisor";
    case EACCES:
    case EPERM:
      return paranoid_hint(f);
    case ENOSYS:
      if (!QUANTA_HAVE_PERF_EVENT_OPEN) {
        return "this build has no perf_event_open: its headers lack <linux/perf_event.h> or "
               "SYS_perf_event_open";
      }
      return "the kernel or emulator has no perf_event_open: QEMU user mode does not emulate "
             "it, nor does a kernel built without CONFIG_PERF_EVENTS have it";
    case EINVAL:
      return "the kernel rejected the attributes: a config this PMU does not know, or a group "
             "larger than the PMU's counters";
    case EBUSY:
      return "the PMU is held exclusively by another user (a pinned or exclusive event)";
    case EMFILE:
    case ENFILE:
      return "out of file descriptors: each counter needs one";
    case E2BIG:
      return "the kernel is older than the perf_event_attr this was built with";
    default:
      return "errno " + std::to_string(f.err) + ", not a cause this layer knows";
  }
}

const std::string& not_opened_reason() {
  static const std::string r = "not opened: HwCounters::open() has not run on this thread";
  return r;
}

}  // namespace

// ---- reasons and names ------------------------------------------------------

std::string perf_event_name(std::uint32_t type, std::uint64_t config) {
  static constexpr const char* kHw[] = {"PERF_COUNT_HW_CPU_CYCLES",
                                        "PERF_COUNT_HW_INSTRUCTIONS",
                                        "PERF_COUNT_HW_CACHE_REFERENCES",
                                        "PERF_COUNT_HW_CACHE_MISSES",
                                        "PERF_COUNT_HW_BRANCH_INSTRUCTIONS",
                                        "PERF_COUNT_HW_BRANCH_MISSES",
                                        "PERF_COUNT_HW_BUS_CYCLES",
                                        "PERF_COUNT_HW_STALLED_CYCLES_FRONTEND",
                                        "PERF_COUNT_HW_STALLED_CYCLES_BACKEND",
                                        "PERF_COUNT_HW_REF_CPU_CYCLES"};
  static constexpr const char* kSw[] = {
      "PERF_COUNT_SW_CPU_CLOCK",        "PERF_COUNT_SW_TASK_CLOCK",
      "PERF_COUNT_SW_PAGE_FAULTS",      "PERF_COUNT_SW_CONTEXT_SWITCHES",
      "PERF_COUNT_SW_CPU_MIGRATIONS",   "PERF_COUNT_SW_PAGE_FAULTS_MIN",
      "PERF_COUNT_SW_PAGE_FAULTS_MAJ",  "PERF_COUNT_SW_ALIGNMENT_FAULTS",
      "PERF_COUNT_SW_EMULATION_FAULTS", "PERF_COUNT_SW_DUMMY",
      "PERF_COUNT_SW_BPF_OUTPUT",       "PERF_COUNT_SW_CGROUP_SWITCHES"};
  if (type == kTypeHardware && config < std::size(kHw)) return kHw[config];
  if (type == kTypeSoftware && config < std::size(kSw)) return kSw[config];
  char buf[64];
  std::snprintf(buf, sizeof buf, "type=%u config=%#llx", type,
                static_cast<unsigned long long>(config));
  return buf;
}

std::string perf_open_reason(const PerfOpenFailure& f) {
  return "perf_event_open(" + std::string(f.event) + "): " + error_text(f.err) + " (" + hint(f) +
         ")";
}

int read_perf_event_paranoid(int* err) noexcept {
  const int fd = ::open("/proc/sys/kernel/perf_event_paranoid", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = errno;
    return kParanoidUnknown;
  }
  char buf[32];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  const int read_err = errno;
  ::close(fd);
  if (n <= 0) {
    *err = n < 0 ? read_err : ENODATA;
    return kParanoidUnknown;
  }
  buf[n] = '\0';
  char* end = nullptr;
  const long v = std::strtol(buf, &end, 10);
  if (end == buf) {
    *err = EINVAL;
    return kParanoidUnknown;
  }
  return static_cast<int>(v);
}

std::uint64_t scale_interval(std::uint64_t dv, std::uint64_t de, std::uint64_t dr) noexcept {
  if (dr == 0 || dr >= de) return dv;
#ifdef __SIZEOF_INT128__
  const unsigned __int128 scaled = static_cast<unsigned __int128>(dv) * de / dr;
  return scaled > UINT64_MAX ? UINT64_MAX : static_cast<std::uint64_t>(scaled);
#else
  const long double scaled = static_cast<long double>(dv) * de / dr;
  return scaled >= 18446744073709551615.0L ? UINT64_MAX : static_cast<std::uint64_t>(scaled);
#endif
}

// ---- HwCounters -------------------------------------------------------------

HwCounters::~HwCounters() { close_all(); }

void HwCounters::close_all() noexcept {
  // Siblings first, then leaders: closing a leader first would only promote
  // its siblings to singleton groups for the moment before they close too.
  for (std::size_t g = 0; g < groups_; ++g) {
    for (std::size_t k = 1; k < group_[g].members; ++k) ::close(slot_[group_[g].member_slot[k]].fd);
  }
  for (std::size_t g = 0; g < groups_; ++g) ::close(group_[g].leader_fd);
  for (Slot& s : slot_) s = Slot{};
  for (Group& g : group_) g = Group{};
  groups_ = 0;
  available_ = 0;
  opened_ = false;
}

std::uint32_t HwCounters::open(int tid) noexcept {
  return open_events(kDefaultEvents, kHwEvents, tid);
}

std::uint32_t HwCounters::open_for_testing(const std::pair<std::uint32_t, std::uint64_t>* events,
                                           std::size_t n) noexcept {
  if (n > kHwEvents) {
    std::fprintf(stderr,
                 "quanta: HwCounters::open_for_testing: n = %zu events, expected at most %zu\n", n,
                 kHwEvents);
    std::abort();
  }
  return open_events(events, n, 0);
}

std::uint32_t HwCounters::open_events(const std::pair<std::uint32_t, std::uint64_t>* events,
                                      std::size_t n, int tid) noexcept {
  close_all();
  opened_ = true;
  int err[kHwEvents] = {};
  bool pmu_seen = false;
  for (std::size_t i = 0; i < n; ++i) {
    const auto [type, config] = events[i];
    int fd = -1;
    // Join the first group that takes it (one read() serves the group) ...
    for (std::size_t g = 0; g < groups_ && fd < 0; ++g) {
      fd = perf_open(type, config, group_[g].leader_fd, tid);
      if (fd >= 0) {
        Group& grp = group_[g];
        grp.member_slot[grp.members++] = static_cast<std::uint8_t>(i);
      }
    }
    // ... or lead a new one. When it fails alone too, its own errno is the
    // reason (a failure to join says more about the group than the event).
    if (fd < 0) {
      fd = perf_open(type, config, -1, tid);
      if (fd < 0) {
        err[i] = errno;
        continue;
      }
      Group& grp = group_[groups_++];
      grp.leader_fd = fd;
      grp.member_slot[grp.members++] = static_cast<std::uint8_t>(i);
    }
    slot_[i].fd = fd;
    available_ |= 1u << i;
    if (is_hardware_type(type)) pmu_seen = true;
  }

  int paranoid_err = 0;
  int paranoid = kParanoidUnknown;
  bool paranoid_read = false;
  for (std::size_t i = 0; i < kHwEvents; ++i) {
    if (available_ & (1u << i)) {
      reason_[i].clear();
      continue;
    }
    if (i >= n) {
      reason_[i] = "not requested: open_for_testing was given " + std::to_string(n) +
                   " event(s), so slot " + std::to_string(i) + " has none";
      continue;
    }
    PerfOpenFailure f;
    const std::string name = perf_event_name(events[i].first, events[i].second);
    f.event = name;
    f.err = err[i];
    f.hardware = is_hardware_type(events[i].first);
    f.pmu_seen = pmu_seen;
    if (f.err == EACCES || f.err == EPERM) {
      if (!paranoid_read) {
        paranoid = read_perf_event_paranoid(&paranoid_err);
        paranoid_read = true;
      }
      f.paranoid = paranoid;
      f.paranoid_err = paranoid_err;
    }
    reason_[i] = perf_open_reason(f);
  }
  return available_;
}

const std::string& HwCounters::reason(HwEvent e) const noexcept {
  const auto i = static_cast<std::size_t>(e);
  if (!opened_) return not_opened_reason();
  return reason_[i];
}

void HwCounters::read(HwSnapshot& out) noexcept {
  const int saved_errno = errno;
  for (std::size_t g = 0; g < groups_; ++g) {
    Group& grp = group_[g];
    std::uint64_t buf[kReadHeader + kHwEvents];
    const std::size_t want = (kReadHeader + grp.members) * sizeof(std::uint64_t);
    const ssize_t got = ::read(grp.leader_fd, buf, want);
    // A short read or another member count means the layout is not the one
    // opened; keep the previous values rather than misattribute counts.
    if (got != static_cast<ssize_t>(want) || buf[0] != grp.members) continue;
    const std::uint64_t enabled = buf[1], running = buf[2];
    const std::uint64_t de = enabled >= grp.last_enabled ? enabled - grp.last_enabled : 0;
    const std::uint64_t dr = running >= grp.last_running ? running - grp.last_running : 0;
    grp.last_enabled = enabled;
    grp.last_running = running;
    for (std::size_t k = 0; k < grp.members; ++k) {
      Slot& s = slot_[grp.member_slot[k]];
      const std::uint64_t raw = buf[kReadHeader + k];
      // The kernel's counts only grow (nothing here resets them); the guard
      // keeps a surprise from turning into a huge wrapped increment.
      s.total += scale_interval(raw >= s.last_raw ? raw - s.last_raw : 0, de, dr);
      s.last_raw = raw;
    }
  }
  for (std::size_t i = 0; i < kHwEvents; ++i) out.value[i] = slot_[i].total;
  errno = saved_errno;
}

}  // namespace quanta::detail
