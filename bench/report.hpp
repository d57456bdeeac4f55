// The results of one quanta-bench run and the two ways they are written out.
#pragma once
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <quanta/preempt.hpp>

#include "machine_info.hpp"
#include "sampling.hpp"

namespace qbench {

struct Measured {
  std::string impl;  // what was measured, e.g. "Boost.Fiber"
  Stats stats;
};

// One comparison: the same operation done by quanta and by a peer.
struct Row {
  std::string benchmark;  // e.g. "raw switch"
  Measured quanta;
  Measured peer;

  // quanta median / peer median: below 1 means quanta is faster.
  double ratio() const { return quanta.stats.median_ns / peer.stats.median_ns; }
  // peer median / quanta median when the peer is slower; empty otherwise.
  std::optional<double> speedup() const {
    if (quanta.stats.median_ns < peer.stats.median_ns) {
      return peer.stats.median_ns / quanta.stats.median_ns;
    }
    return std::nullopt;
  }
};

// A named number of the preemption section, e.g. {"p99", 41.2}.
struct Figure {
  std::string name;  // empty for a side's single value
  double value = 0;  // NaN when it could not be computed
};

// One side of a preemption row: what ran and what it measured.
struct Side {
  std::string impl;             // e.g. "2 spinning ULTs"
  std::string unit;             // "ns", "%", "us" or "" (a pure number)
  std::vector<Figure> figures;  // the first is the headline value
};

// One row of the preemption section. Units differ between rows.
struct PreemptRow {
  std::string benchmark;
  Side quanta;
  std::optional<Side> peer;
  std::string goal;             // e.g. "< 1 %"; empty when none
  std::vector<Figure> details;  // JSON only: run counts, rates, sample sizes
  // The quanta runtimes' preemption counters over the measured windows,
  // summed over the runs of the row, per worker index.
  std::optional<quanta::PreemptionStats> counters;
};

struct PreemptSection {
  std::string setup;  // window lengths and repetitions
  // What else used the CPUs while the section ran (other processes, steal),
  // in % of all CPUs' time; empty when /proc could not be read.
  std::vector<Figure> environment;
  std::vector<PreemptRow> rows;
  std::vector<std::string> notes;  // how each benchmark is computed
};

// One row of the workloads section: a whole workload run by quanta and by a
// peer. A row without a quanta side (a workload quanta cannot express yet)
// still shows the peer, with the reason in place of quanta's figures.
struct WorkloadRow {
  std::string benchmark;           // e.g. "skynet, 10^6 leaves"
  std::string op;                  // what one operation is: "run", "hop", "spawn+join"
  std::optional<Measured> quanta;  // impl: the scheduler, e.g. "work-stealing"
  std::string quanta_missing;      // shown instead when there is no quanta side
  Measured peer;

  // Shown in milliseconds (whole runs) rather than nanoseconds.
  bool in_ms() const { return op == "run"; }
  // quanta median / peer median, when there is a quanta side.
  std::optional<double> ratio() const {
    if (!quanta) return std::nullopt;
    return quanta->stats.median_ns / peer.stats.median_ns;
  }
  // peer median / quanta median when the peer is slower.
  std::optional<double> speedup() const {
    if (!quanta || quanta->stats.median_ns >= peer.stats.median_ns) return std::nullopt;
    return peer.stats.median_ns / quanta->stats.median_ns;
  }
};

struct WorkloadSection {
  std::string setup;               // the quanta Config, the peers' threads, samples
  std::vector<WorkloadRow> rows;
  std::vector<std::string> notes;  // what each workload does
};

struct Run {
  MachineInfo machine;
  bool quick = false;
  std::string quanta_config;       // the Config the runtime rows used
  std::vector<std::string> notes;  // what one operation is, per benchmark
  std::vector<Row> rows;
  WorkloadSection workloads;       // no rows when not selected
  PreemptSection preemption;       // no rows when not selected
};

// The human-readable tables: machine header lines, then one line per row of
// the peer comparison, then the workloads, then the preemption section (each
// when it has rows).
void print_table(std::ostream& out, const Run& run);

// The same data as JSON, with min/max and sample counts. False when the file
// cannot be written.
bool write_json(const std::string& path, const Run& run);

}  // namespace qbench
