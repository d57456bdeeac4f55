// The human-readable tables of a run.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "report.hpp"

namespace qbench {
namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Three significant digits or so, never in exponent form.
std::string ns(double v) {
  if (v < 10) return fixed(v, 2);
  if (v < 1000) return fixed(v, 1);
  return fixed(v, 0);
}

// Ratios: enough decimals that a small one does not print as zero.
std::string times(double v) {
  const int decimals = v < 0.01 ? 5 : v < 0.1 ? 3 : v < 10 ? 2 : 1;
  return fixed(v, decimals) + "x";
}

// Lines of cells padded to common column widths; a column whose `text` flag
// is set is left-aligned, the others right-aligned.
template <std::size_t N>
void emit_lines(std::ostream& out, const std::vector<std::array<std::string, N>>& lines,
                const std::array<bool, N>& text) {
  std::array<std::size_t, N> width{};
  for (const auto& l : lines) {
    for (std::size_t c = 0; c < N; ++c) width[c] = std::max(width[c], l[c].size());
  }
  for (const auto& l : lines) {
    std::string s;
    for (std::size_t c = 0; c < N; ++c) {
      const std::string pad(width[c] - l[c].size(), ' ');
      if (c) s += "  ";
      s += text[c] ? l[c] + pad : pad + l[c];
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out << s << "\n";
  }
}

// A preemption figure in its unit: percentages with two decimals,
// microseconds with one, pure numbers (fairness) with four.
std::string in_unit(double v, const std::string& unit) {
  if (!std::isfinite(v)) return "n/a";
  if (unit == "%") return fixed(v, 2) + " %";
  if (unit.empty()) return fixed(v, 4);
  if (unit == "us") return fixed(v, 1);
  return ns(v) + " " + unit;
}

// "2650 ns", or "p50 61.2 / p99 140.3 / max 301.0 us" for named figures.
std::string side_text(const Side& s) {
  std::string r;
  for (const Figure& f : s.figures) {
    if (!r.empty()) r += " / ";
    if (!f.name.empty()) r += f.name + " ";
    r += in_unit(f.value, s.unit);
  }
  if (s.unit == "us") r += " us";
  return r;
}

// A workload's per-op figure: milliseconds for whole runs, else nanoseconds.
std::string per_op(double v_ns, bool in_ms) {
  if (!std::isfinite(v_ns)) return "n/a";
  return in_ms ? ns(v_ns / 1e6) + " ms" : ns(v_ns) + " ns";
}

void print_workloads(std::ostream& out, const WorkloadSection& w) {
  out << "\nquanta workloads: median per op; " << w.setup << "\n\n";
  constexpr std::size_t kCols = 8;
  using Line = std::array<std::string, kCols>;
  std::vector<Line> lines;
  lines.push_back(
      {"benchmark", "op", "quanta", "quanta/op", "peer", "peer/op", "quanta/peer", "speedup"});
  for (const WorkloadRow& r : w.rows) {
    const auto ratio = r.ratio();
    const auto s = r.speedup();
    lines.push_back({r.benchmark, r.op, r.quanta ? r.quanta->impl : r.quanta_missing,
                     r.quanta ? per_op(r.quanta->stats.median_ns, r.in_ms()) : "-", r.peer.impl,
                     per_op(r.peer.stats.median_ns, r.in_ms()), ratio ? times(*ratio) : "-",
                     s ? times(*s) : "-"});
  }
  emit_lines<kCols>(out, lines, {true, true, true, false, true, false, false, false});
  out << "\n";
  for (const std::string& n : w.notes) out << n << "\n";
}

void print_preemption(std::ostream& out, const PreemptSection& p) {
  out << "\nquanta preemption: " << p.setup << "\n";
  if (p.environment.size() == 2) {
    out << "meanwhile: other processes used " << fixed(p.environment[0].value, 1)
        << " % of the CPUs' time, the hypervisor took (steal) " << fixed(p.environment[1].value, 1)
        << " %\n";
  }
  out << "\n";
  constexpr std::size_t kCols = 6;
  using Line = std::array<std::string, kCols>;
  std::vector<Line> lines;
  lines.push_back({"benchmark", "quanta", "value", "peer", "peer value", "goal"});
  for (const PreemptRow& r : p.rows) {
    lines.push_back({r.benchmark, r.quanta.impl, side_text(r.quanta), r.peer ? r.peer->impl : "-",
                     r.peer ? side_text(*r.peer) : "-", r.goal.empty() ? "-" : r.goal});
  }
  emit_lines<kCols>(out, lines, {true, true, false, true, false, false});
  out << "\n";
  for (const std::string& n : p.notes) out << n << "\n";
}

}  // namespace

void print_table(std::ostream& out, const Run& run) {
  const MachineInfo& m = run.machine;
  if (!run.rows.empty()) {
    const int samples = run.rows.front().quanta.stats.samples;
    out << "quanta peer comparison: median ns/op of " << samples << " samples"
        << (run.quick ? " (--quick)" : "") << "\n";
  } else {
    out << "quanta-bench" << (run.quick ? " (--quick)" : "") << "\n";
  }
  out << "CPU:          " << m.cpu_model << "\n";
  out << "logical CPUs: " << m.logical_cpus << "\n";
  out << "kernel:       " << m.kernel << "\n";
  out << "compiler:     " << m.compiler << "\n";
  out << "build type:   " << m.build_type << "\n";
  if (!run.rows.empty()) {
    out << "quanta:       " << run.quanta_config << "\n\n";

    constexpr std::size_t kCols = 6;
    using Line = std::array<std::string, kCols>;
    std::vector<Line> lines;
    lines.push_back({"benchmark", "quanta ns/op", "peer", "peer ns/op", "quanta/peer", "speedup"});
    for (const Row& r : run.rows) {
      const auto s = r.speedup();
      lines.push_back({r.benchmark, ns(r.quanta.stats.median_ns), r.peer.impl,
                       ns(r.peer.stats.median_ns), times(r.ratio()), s ? times(*s) : "-"});
    }
    // Text columns (benchmark, peer) left-aligned, numbers right-aligned.
    emit_lines<kCols>(out, lines, {true, false, true, false, false, false});

    out << "\nquanta/peer below 1: quanta is faster; speedup = peer/quanta where the peer is "
           "slower.\n";
    for (const std::string& n : run.notes) out << n << "\n";
  }
  if (!run.workloads.rows.empty()) print_workloads(out, run.workloads);
  if (!run.preemption.rows.empty()) print_preemption(out, run.preemption);
}

}  // namespace qbench
