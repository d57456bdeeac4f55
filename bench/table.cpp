// The human-readable table of a run.
#include <algorithm>
#include <array>
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

}  // namespace

void print_table(std::ostream& out, const Run& run) {
  const MachineInfo& m = run.machine;
  const int samples = run.rows.empty() ? 0 : run.rows.front().quanta.stats.samples;
  out << "quanta peer comparison: median ns/op of " << samples << " samples"
      << (run.quick ? " (--quick)" : "") << "\n";
  out << "CPU:          " << m.cpu_model << "\n";
  out << "logical CPUs: " << m.logical_cpus << "\n";
  out << "kernel:       " << m.kernel << "\n";
  out << "compiler:     " << m.compiler << "\n";
  out << "build type:   " << m.build_type << "\n";
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
  std::array<std::size_t, kCols> width{};
  for (const Line& l : lines) {
    for (std::size_t c = 0; c < kCols; ++c) width[c] = std::max(width[c], l[c].size());
  }
  // Text columns (benchmark, peer) left-aligned, numbers right-aligned.
  auto emit = [&](const Line& l) {
    std::string s;
    for (std::size_t c = 0; c < kCols; ++c) {
      const std::string pad(width[c] - l[c].size(), ' ');
      const bool text = c == 0 || c == 2;
      if (c) s += "  ";
      s += text ? l[c] + pad : pad + l[c];
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out << s << "\n";
  };
  for (const Line& l : lines) emit(l);

  out << "\nquanta/peer below 1: quanta is faster; speedup = peer/quanta where the peer is slower.\n";
  for (const std::string& n : run.notes) out << n << "\n";
}

}  // namespace qbench
