// quanta — Config: defaults, validation and QUANTA_* environment variables.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "quanta/config.hpp"
#include "quanta/error.hpp"
#include "quanta/tune.hpp"

namespace quanta {
namespace {

constexpr unsigned long long kMinTraceBuffer = 64, kMaxTraceBuffer = 1ull << 26;

std::string range(unsigned long long lo, unsigned long long hi) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "[%llu, %llu]", lo, hi);
  return buf;
}

[[noreturn]] void bad_env(const char* var, std::string_view value, const std::string& expected) {
  throw ConfigError(std::string("quanta: ") + var + "=\"" + std::string(value) +
                    "\" is invalid; expected " + expected);
}

const char* env(const char* var) {
  const char* v = std::getenv(var);
  return (v && *v) ? v : nullptr;
}

// An on/off switch.
bool parse_switch(const char* var, std::string_view s) {
  if (s == "on" || s == "1" || s == "true") return true;
  if (s == "off" || s == "0" || s == "false") return false;
  bad_env(var, s, "one of: on, off, 1, 0, true, false");
}

// A decimal integer with an optional K/M/G (powers of 1024) suffix when allowed.
unsigned long long parse_uint(const char* var, const char* text, unsigned long long lo,
                              unsigned long long hi, bool suffixes, const std::string& what) {
  const std::string expected = what + " in " + range(lo, hi);
  if (*text == '-' || *text == '+') bad_env(var, text, expected);
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || errno == ERANGE) bad_env(var, text, expected);
  if (suffixes && *end) {
    unsigned shift = 0;
    switch (*end) {
      case 'k': case 'K': shift = 10; break;
      case 'm': case 'M': shift = 20; break;
      case 'g': case 'G': shift = 30; break;
      default: bad_env(var, text, expected);
    }
    ++end;
    if (v > (~0ull >> shift)) bad_env(var, text, expected);
    v <<= shift;
  }
  if (*end) bad_env(var, text, expected);
  if (v < lo || v > hi) bad_env(var, text, expected);
  return v;
}

// "priority:us[,priority:us...]" of QUANTA_PRIORITY_TIME_SLICES.
std::vector<PrioritySlice> parse_slices(const char* text) {
  constexpr const char* var = "QUANTA_PRIORITY_TIME_SLICES";
  const std::string expected =
      "a list priority:microseconds[,priority:microseconds...] with priority in " +
      range(kMinPriority, kMaxPriority) + " and microseconds in " +
      range(static_cast<unsigned long long>(kMinTimeSlice.count()),
            static_cast<unsigned long long>(kMaxTimeSlice.count())) +
      ", e.g. \"31:200,0:5000\"";
  std::vector<PrioritySlice> out;
  std::string_view rest(text);
  while (true) {
    const std::string_view item = rest.substr(0, rest.find(','));
    const std::size_t colon = item.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == item.size())
      bad_env(var, text, expected);
    const std::string prio(item.substr(0, colon)), us(item.substr(colon + 1));
    char* end = nullptr;
    errno = 0;
    const unsigned long p = std::strtoul(prio.c_str(), &end, 10);
    if (*end || prio[0] == '-' || prio[0] == '+' || errno || p > kMaxPriority)
      bad_env(var, text, expected);
    errno = 0;
    const unsigned long long s = std::strtoull(us.c_str(), &end, 10);
    if (*end || us[0] == '-' || us[0] == '+' || errno ||
        s < static_cast<unsigned long long>(kMinTimeSlice.count()) ||
        s > static_cast<unsigned long long>(kMaxTimeSlice.count()))
      bad_env(var, text, expected);
    out.push_back({static_cast<int>(p), std::chrono::microseconds(s)});
    if (item.size() == rest.size()) break;
    rest.remove_prefix(item.size() + 1);
  }
  return out;
}

}  // namespace

std::chrono::microseconds Config::time_slice_for(int priority) const noexcept {
  for (const PrioritySlice& ps : priority_time_slices)
    if (ps.priority == priority) return ps.slice;
  return time_slice;
}

Config Config::from_env() {
  // The profile first: every other variable overrides what it set.
  Config c;
  if (const char* v = env("QUANTA_PROFILE")) {
    const std::optional<Profile> p = tune::profile_from_name(v);
    if (!p)
      bad_env("QUANTA_PROFILE", v,
              "one of: latency, throughput, memory_constrained, cpu_constrained");
    c = Config::profile(*p);
  }
  if (const char* v = env("QUANTA_WORKERS"))
    c.workers = static_cast<unsigned>(
        parse_uint("QUANTA_WORKERS", v, 0, kMaxWorkers, false, "a worker count (0 = one per CPU)"));
  if (const char* v = env("QUANTA_SCHEDULER")) {
    std::string_view s(v);
    if (s == "round_robin")
      c.scheduler = SchedulerKind::RoundRobin;
    else if (s == "work_stealing")
      c.scheduler = SchedulerKind::WorkStealing;
    else
      bad_env("QUANTA_SCHEDULER", s, "one of: work_stealing, round_robin");
  }
  if (const char* v = env("QUANTA_TIME_SLICE_US"))
    c.time_slice = std::chrono::microseconds(parse_uint(
        "QUANTA_TIME_SLICE_US", v, static_cast<unsigned long long>(kMinTimeSlice.count()),
        static_cast<unsigned long long>(kMaxTimeSlice.count()), false, "microseconds"));
  if (const char* v = env("QUANTA_PRIORITY_TIME_SLICES")) c.priority_time_slices = parse_slices(v);
  if (const char* v = env("QUANTA_PREEMPT")) c.preempt = parse_switch("QUANTA_PREEMPT", v);
  if (const char* v = env("QUANTA_STACK_SIZE"))
    c.stack_size = static_cast<std::size_t>(parse_uint("QUANTA_STACK_SIZE", v, kMinStackSize,
                                                       kMaxStackSize, true,
                                                       "bytes (optional K/M/G suffix)"));
  if (const char* v = env("QUANTA_STACK_GUARD")) {
    std::string_view s(v);
    if (s == "auto")
      c.stack_guard = StackGuard::Auto;
    else if (s == "page")
      c.stack_guard = StackGuard::Page;
    else if (s == "canary")
      c.stack_guard = StackGuard::Canary;
    else
      bad_env("QUANTA_STACK_GUARD", s, "one of: auto, page, canary");
  }
  if (const char* v = env("QUANTA_SWITCH_TARGET_NS"))
    c.switch_target = std::chrono::nanoseconds(
        parse_uint("QUANTA_SWITCH_TARGET_NS", v, 1, 1'000'000'000, false, "nanoseconds"));
  if (const char* v = env("QUANTA_SCHEDTRACE"))
    c.schedtrace = std::chrono::milliseconds(parse_uint("QUANTA_SCHEDTRACE", v, 0, 3'600'000, false,
                                                        "milliseconds between lines (0 = off)"));
  if (const char* v = env("QUANTA_METRICS")) c.metrics = parse_switch("QUANTA_METRICS", v);
  if (const char* v = env("QUANTA_THREAD_METRICS"))
    c.thread_metrics = parse_switch("QUANTA_THREAD_METRICS", v);
  if (const char* v = env("QUANTA_TRACE")) c.trace_file = v;
  if (const char* v = env("QUANTA_TRACE_BUFFER"))
    c.trace_buffer = static_cast<std::size_t>(parse_uint("QUANTA_TRACE_BUFFER", v, kMinTraceBuffer,
                                                         kMaxTraceBuffer, true,
                                                         "events per worker (optional K/M suffix)"));
  c.validate();
  return c;
}

void Config::validate() const {
  if (workers > kMaxWorkers)
    throw ConfigError("quanta: Config::workers = " + std::to_string(workers) +
                      " is outside the accepted range " + range(0, kMaxWorkers) +
                      " (0 = one per CPU)");
  if (scheduler != SchedulerKind::RoundRobin && scheduler != SchedulerKind::WorkStealing)
    throw ConfigError("quanta: Config::scheduler = " +
                      std::to_string(static_cast<int>(scheduler)) +
                      " is not a SchedulerKind; expected WorkStealing or RoundRobin");
  if (time_slice < kMinTimeSlice || time_slice > kMaxTimeSlice)
    throw ConfigError("quanta: Config::time_slice = " + std::to_string(time_slice.count()) +
                      " us is outside the accepted range " +
                      range(static_cast<unsigned long long>(kMinTimeSlice.count()),
                            static_cast<unsigned long long>(kMaxTimeSlice.count())) +
                      " us");
  for (std::size_t i = 0; i < priority_time_slices.size(); ++i) {
    const PrioritySlice& ps = priority_time_slices[i];
    const std::string where =
        "quanta: Config::priority_time_slices[" + std::to_string(i) + "]";
    if (ps.priority < kMinPriority || ps.priority > kMaxPriority)
      throw ConfigError(where + ".priority = " + std::to_string(ps.priority) +
                        " is outside the accepted range " + range(kMinPriority, kMaxPriority));
    if (ps.slice < kMinTimeSlice || ps.slice > kMaxTimeSlice)
      throw ConfigError(where + ".slice = " + std::to_string(ps.slice.count()) +
                        " us is outside the accepted range " +
                        range(static_cast<unsigned long long>(kMinTimeSlice.count()),
                              static_cast<unsigned long long>(kMaxTimeSlice.count())) +
                        " us");
    for (std::size_t j = 0; j < i; ++j)
      if (priority_time_slices[j].priority == ps.priority)
        throw ConfigError(where + ".priority = " + std::to_string(ps.priority) +
                          " is listed twice (also at index " + std::to_string(j) +
                          "); expected each priority at most once");
  }
  if (stack_size < kMinStackSize || stack_size > kMaxStackSize)
    throw ConfigError("quanta: Config::stack_size = " + std::to_string(stack_size) +
                      " bytes is outside the accepted range " + range(kMinStackSize, kMaxStackSize));
  if (switch_target.count() < 1 || switch_target.count() > 1'000'000'000)
    throw ConfigError("quanta: Config::switch_target = " + std::to_string(switch_target.count()) +
                      " ns is outside the accepted range " + range(1, 1'000'000'000) + " ns");
  if (schedtrace.count() < 0 || schedtrace.count() > 3'600'000)
    throw ConfigError("quanta: Config::schedtrace = " + std::to_string(schedtrace.count()) +
                      " ms is outside the accepted range " + range(0, 3'600'000) +
                      " ms (0 = off)");
  if (stack_guard != StackGuard::Auto && stack_guard != StackGuard::Page &&
      stack_guard != StackGuard::Canary)
    throw ConfigError("quanta: Config::stack_guard = " +
                      std::to_string(static_cast<int>(stack_guard)) +
                      " is not a StackGuard; expected Auto, Page or Canary");
  if (trace_buffer < kMinTraceBuffer || trace_buffer > kMaxTraceBuffer)
    throw ConfigError("quanta: Config::trace_buffer = " + std::to_string(trace_buffer) +
                      " events is outside the accepted range " +
                      range(kMinTraceBuffer, kMaxTraceBuffer));
}

}  // namespace quanta
