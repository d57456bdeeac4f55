// quanta — a Config as the shell lines Config::from_env() reads back:
// env_lines() for the four settings the tuner recommends, changed_env_lines()
// for every other variable whose value is not the default.
#include <string>

#include "quanta/config.hpp"
#include "quanta/tune.hpp"

namespace quanta::tune {
namespace {

// `n` with the larger of the suffixes M and K (powers of 1024) that divides
// it, as from_env() reads stack sizes and trace buffers.
std::string with_suffix(std::size_t n) {
  if (n != 0 && n % (std::size_t{1} << 20) == 0) return std::to_string(n >> 20) + "M";
  if (n != 0 && n % 1024 == 0) return std::to_string(n >> 10) + "K";
  return std::to_string(n);
}

const char* on_off(bool b) { return b ? "on" : "off"; }

std::string line(const char* name, const std::string& value) {
  return std::string("export ") + name + "=" + value + "\n";
}

}  // namespace

std::string shell_quote(const std::string& s) {
  bool plain = !s.empty();
  for (const char ch : s) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '/' || ch == '.' || ch == '_' ||
                    ch == '-' || ch == '+' || ch == ':' || ch == ',' || ch == '@' || ch == '%';
    plain = plain && ok;
  }
  if (plain) return s;
  std::string q = "'";
  for (const char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

std::string env_lines(const Config& cfg) {
  return line("QUANTA_WORKERS", std::to_string(cfg.workers)) +
         line("QUANTA_TIME_SLICE_US", std::to_string(cfg.time_slice.count())) +
         line("QUANTA_STACK_SIZE", with_suffix(cfg.stack_size)) +
         line("QUANTA_SCHEDULER",
              cfg.scheduler == SchedulerKind::RoundRobin ? "round_robin" : "work_stealing");
}

std::string changed_env_lines(const Config& cfg) {
  const Config d;
  std::string out;
  if (!cfg.priority_time_slices.empty()) {
    std::string v;
    for (const PrioritySlice& ps : cfg.priority_time_slices) {
      if (!v.empty()) v += ',';
      v += std::to_string(ps.priority);
      v += ':';
      v += std::to_string(ps.slice.count());
    }
    out += line("QUANTA_PRIORITY_TIME_SLICES", v);
  }
  if (cfg.preempt != d.preempt) out += line("QUANTA_PREEMPT", on_off(cfg.preempt));
  if (cfg.stack_guard != d.stack_guard)
    out += line("QUANTA_STACK_GUARD", cfg.stack_guard == StackGuard::Page     ? "page"
                                      : cfg.stack_guard == StackGuard::Canary ? "canary"
                                                                              : "auto");
  if (cfg.switch_target != d.switch_target)
    out += line("QUANTA_SWITCH_TARGET_NS", std::to_string(cfg.switch_target.count()));
  if (cfg.schedtrace != d.schedtrace)
    out += line("QUANTA_SCHEDTRACE", std::to_string(cfg.schedtrace.count()));
  if (cfg.metrics != d.metrics) out += line("QUANTA_METRICS", on_off(cfg.metrics));
  if (cfg.thread_metrics != d.thread_metrics)
    out += line("QUANTA_THREAD_METRICS", on_off(cfg.thread_metrics));
  if (!cfg.trace_file.empty()) out += line("QUANTA_TRACE", shell_quote(cfg.trace_file));
  if (cfg.trace_buffer != d.trace_buffer)
    out += line("QUANTA_TRACE_BUFFER", with_suffix(cfg.trace_buffer));
  return out;
}

}  // namespace quanta::tune
