// quanta — Config: defaults, validation and QUANTA_* environment variables.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "quanta/config.hpp"
#include "quanta/error.hpp"

namespace quanta {
namespace {

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

}  // namespace

Config Config::from_env() {
  Config c;
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
  if (const char* v = env("QUANTA_PREEMPT")) {
    std::string_view s(v);
    if (s == "on" || s == "1" || s == "true")
      c.preempt = true;
    else if (s == "off" || s == "0" || s == "false")
      c.preempt = false;
    else
      bad_env("QUANTA_PREEMPT", s, "one of: on, off, 1, 0, true, false");
  }
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
  if (stack_size < kMinStackSize || stack_size > kMaxStackSize)
    throw ConfigError("quanta: Config::stack_size = " + std::to_string(stack_size) +
                      " bytes is outside the accepted range " + range(kMinStackSize, kMaxStackSize));
  if (stack_guard != StackGuard::Auto && stack_guard != StackGuard::Page &&
      stack_guard != StackGuard::Canary)
    throw ConfigError("quanta: Config::stack_guard = " +
                      std::to_string(static_cast<int>(stack_guard)) +
                      " is not a StackGuard; expected Auto, Page or Canary");
}

}  // namespace quanta
