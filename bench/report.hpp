// The results of one quanta-bench run and the two ways they are written out.
#pragma once
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

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

struct Run {
  MachineInfo machine;
  bool quick = false;
  std::string quanta_config;       // the Config the runtime rows used
  std::vector<std::string> notes;  // what one operation is, per benchmark
  std::vector<Row> rows;
};

// The human-readable table: machine header lines, then one line per row.
void print_table(std::ostream& out, const Run& run);

// The same data as JSON, with min/max and sample counts. False when the file
// cannot be written.
bool write_json(const std::string& path, const Run& run);

}  // namespace qbench
