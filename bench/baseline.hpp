// --baseline FILE: the ratios of a previous run's JSON (what write_json
// wrote), compared row by row with this run's.
#pragma once
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "report.hpp"

namespace qbench {

// One comparable row: its key ("benchmark / peer", workload rows prefixed
// with "workloads: ") and its quanta/peer ratio (empty when the file has
// null: a side that could not be measured).
struct RatioRow {
  std::string key;
  std::optional<double> ratio;
};

struct Baseline {
  std::string path;
  bool quick = false;
  std::vector<RatioRow> rows;
};

// Reads a JSON file written by write_json. Throws std::runtime_error naming
// the file and, for a syntax error, the byte offset.
Baseline read_baseline(const std::string& path);

// This run's rows in the same form (the peer comparison and the workloads;
// preemption rows have no single ratio and are not compared).
std::vector<RatioRow> ratio_rows(const Run& run);

// Prints the comparison table; returns how many rows got worse by more than
// tolerance_pct percent (ratio now > ratio then * (1 + tolerance_pct / 100)).
// Rows on one side only, or without a ratio, are listed and not counted.
int compare_with_baseline(std::ostream& out, const Baseline& base, const Run& run,
                          double tolerance_pct);

}  // namespace qbench
