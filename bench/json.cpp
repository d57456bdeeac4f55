// The JSON form of a run.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <ostream>
#include <string>
#include <string_view>

#include "report.hpp"

namespace qbench {
namespace {

std::string quote(std::string_view s) {
  std::string r = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': r += "\\\""; break;
      case '\\': r += "\\\\"; break;
      case '\n': r += "\\n"; break;
      case '\t': r += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          r += buf;
        } else {
          r += c;
        }
    }
  }
  return r + "\"";
}

// null for a value that could not be computed (NaN, infinite).
std::string num(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

void measured(std::ostream& out, const Measured& m) {
  const Stats& s = m.stats;
  out << "{\"impl\": " << quote(m.impl) << ", \"median_ns\": " << num(s.median_ns)
      << ", \"min_ns\": " << num(s.min_ns) << ", \"max_ns\": " << num(s.max_ns)
      << ", \"samples\": " << s.samples << ", \"ops_per_sample\": " << s.ops_per_sample << "}";
}

void figures(std::ostream& out, const std::vector<Figure>& fs) {
  out << "{";
  for (std::size_t i = 0; i < fs.size(); ++i) {
    out << (i ? ", " : "") << quote(fs[i].name.empty() ? "value" : fs[i].name) << ": "
        << num(fs[i].value);
  }
  out << "}";
}

void side(std::ostream& out, const Side& s) {
  out << "{\"impl\": " << quote(s.impl) << ", \"unit\": " << quote(s.unit) << ", \"figures\": ";
  figures(out, s.figures);
  out << "}";
}

void counters(std::ostream& out, const quanta::PreemptionCounters& c) {
  out << "{\"sent\": " << c.sent << ", \"taken\": " << c.taken << ", \"deferred\": " << c.deferred
      << ", \"deferred_taken\": " << c.deferred_taken << ", \"ignored\": " << c.ignored << "}";
}

// Figures in ns per op, whatever the table shows; "op" says what one op is.
void workloads(std::ostream& out, const WorkloadSection& w) {
  out << "  \"workloads\": {\n    \"setup\": " << quote(w.setup) << ",\n    \"unit\": \"ns/op\","
      << "\n    \"rows\": [";
  for (std::size_t i = 0; i < w.rows.size(); ++i) {
    const WorkloadRow& r = w.rows[i];
    out << (i ? ",\n" : "\n") << "      {\"benchmark\": " << quote(r.benchmark)
        << ", \"op\": " << quote(r.op) << ",\n       \"quanta\": ";
    if (r.quanta) {
      measured(out, *r.quanta);
    } else {
      out << "null";
    }
    out << ",\n       \"quanta_missing\": " << (r.quanta ? "null" : quote(r.quanta_missing))
        << ",\n       \"peer\": ";
    measured(out, r.peer);
    const auto ratio = r.ratio();
    const auto s = r.speedup();
    out << ",\n       \"ratio\": " << (ratio ? num(*ratio) : "null")
        << ", \"speedup\": " << (s ? num(*s) : "null") << "}";
  }
  out << "\n    ],\n    \"notes\": [";
  for (std::size_t i = 0; i < w.notes.size(); ++i) out << (i ? ", " : "") << quote(w.notes[i]);
  out << "]\n  },\n";
}

void preemption(std::ostream& out, const PreemptSection& p) {
  out << "  \"preemption\": {\n    \"setup\": " << quote(p.setup) << ",\n    \"environment\": ";
  figures(out, p.environment);
  out << ",\n    \"rows\": [";
  for (std::size_t i = 0; i < p.rows.size(); ++i) {
    const PreemptRow& r = p.rows[i];
    out << (i ? ",\n" : "\n") << "      {\"benchmark\": " << quote(r.benchmark)
        << ",\n       \"quanta\": ";
    side(out, r.quanta);
    out << ",\n       \"peer\": ";
    if (r.peer) {
      side(out, *r.peer);
    } else {
      out << "null";
    }
    out << ",\n       \"goal\": " << (r.goal.empty() ? "null" : quote(r.goal))
        << ",\n       \"details\": ";
    figures(out, r.details);
    out << ",\n       \"preemption_counters\": ";
    if (r.counters) {
      out << "{\"total\": ";
      counters(out, r.counters->total);
      out << ", \"per_worker\": [";
      for (std::size_t w = 0; w < r.counters->per_worker.size(); ++w) {
        if (w) out << ", ";
        counters(out, r.counters->per_worker[w]);
      }
      out << "]}";
    } else {
      out << "null";
    }
    out << "}";
  }
  out << "\n    ],\n    \"notes\": [";
  for (std::size_t i = 0; i < p.notes.size(); ++i) out << (i ? ", " : "") << quote(p.notes[i]);
  out << "]\n  },\n";
}

}  // namespace

bool write_json(const std::string& path, const Run& run) {
  std::ofstream out(path);
  if (!out) return false;
  const MachineInfo& m = run.machine;
  out << "{\n  \"machine\": {\"cpu_model\": " << quote(m.cpu_model)
      << ", \"logical_cpus\": " << m.logical_cpus << ", \"kernel\": " << quote(m.kernel)
      << ", \"compiler\": " << quote(m.compiler) << ", \"build_type\": " << quote(m.build_type)
      << "},\n";
  out << "  \"quick\": " << (run.quick ? "true" : "false") << ",\n";
  out << "  \"quanta_config\": " << quote(run.quanta_config) << ",\n";
  out << "  \"unit\": \"ns/op\",\n";
  out << "  \"rows\": [";
  for (std::size_t i = 0; i < run.rows.size(); ++i) {
    const Row& r = run.rows[i];
    out << (i ? ",\n" : "\n") << "    {\"benchmark\": " << quote(r.benchmark) << ",\n     \"quanta\": ";
    measured(out, r.quanta);
    out << ",\n     \"peer\": ";
    measured(out, r.peer);
    const auto s = r.speedup();
    out << ",\n     \"ratio\": " << num(r.ratio()) << ", \"speedup\": " << (s ? num(*s) : "null")
        << "}";
  }
  out << "\n  ],\n";
  if (!run.workloads.rows.empty()) workloads(out, run.workloads);
  if (!run.preemption.rows.empty()) preemption(out, run.preemption);
  out << "  \"notes\": [";
  for (std::size_t i = 0; i < run.notes.size(); ++i) out << (i ? ", " : "") << quote(run.notes[i]);
  out << "]\n}\n";
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace qbench
