// quanta-bench: quanta against its peers, measured in one process, printed as
// three tables (the peer comparison, the workloads and the preemption
// section) and optionally written as JSON.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "baseline.hpp"
#include "cases.hpp"
#include "machine_info.hpp"
#include "preempt.hpp"
#include "report.hpp"
#include "workloads.hpp"

namespace qbench {
namespace {

struct CaseSpec {
  const char* impl;
  Batch (*make)();
  std::uint64_t ops;  // per sample in a full run
};

struct RowSpec {
  const char* benchmark;
  CaseSpec quanta;
  CaseSpec peer;
};

// Batch sizes keep one sample between a few and ~200 ms on a 2-CPU VM; the
// kernel-thread peers get small batches because each op costs microseconds.
// Ops of the two-sided cases (switch, yield, handoff) must be even.
const CaseSpec kQuantaSwitch{"quanta_ctx_switch", quanta_raw_switch, 2'000'000};
const CaseSpec kQuantaYield{"quanta yield", quanta_yield, 200'000};
const CaseSpec kQuantaSpawn{"quanta spawn+join", quanta_spawn_join, 20'000};

const RowSpec kRows[] = {
    {"raw switch (one call site)", {"quanta_ctx_switch", quanta_same_site_switch, 2'000'000},
     {"Boost.Context fcontext", boost_fcontext_same_site_switch, 2'000'000}},
    {"raw switch (two call sites)", kQuantaSwitch,
     {"Boost.Context fcontext", boost_fcontext_switch, 2'000'000}},
    {"yield (2 ULTs, 1 worker)", kQuantaYield, {"Boost.Fiber", boost_fiber_yield, 200'000}},
    {"yield (2 ULTs, 1 worker)", kQuantaYield,
     {"std::thread mutex+condvar", std_thread_handoff, 10'000}},
    {"yield, round-robin", {"quanta yield, round-robin", quanta_yield_rr, 200'000},
     {"Boost.Fiber", boost_fiber_yield, 200'000}},
    {"spawn+join", kQuantaSpawn, {"Boost.Fiber", boost_fiber_spawn_join, 20'000}},
    {"spawn+join, round-robin", {"quanta spawn+join, round-robin", quanta_spawn_join_rr, 20'000},
     {"Boost.Fiber", boost_fiber_spawn_join, 20'000}},
    {"spawn+join", kQuantaSpawn, {"std::thread", std_thread_spawn_join, 500}},
    {"metrics overhead (yield)", kQuantaYield,
     {"quanta yield, Config::metrics=false", quanta_yield_metrics_off, 200'000}},
    {"thread metrics overhead (yield)",
     {"quanta yield, Config::thread_metrics=true", quanta_yield_thread_metrics, 200'000},
     kQuantaYield},
    {"profiling overhead (yield)",
     {"quanta yield, ThreadBuilder::profiling(true)", quanta_yield_profiled, 20'000},
     kQuantaYield},
    {"tracing overhead (yield)",
     {"quanta yield, Config::trace_file set", quanta_yield_traced, 200'000}, kQuantaYield},
    {"tracing overhead (spawn+join)",
     {"quanta spawn+join, Config::trace_file set", quanta_spawn_join_traced, 20'000},
     kQuantaSpawn},
    {"tracing overhead (yield, fresh ring)",
     {"quanta yield, Config::trace_file set, new ring", quanta_yield_traced_fresh, 200'000},
     kQuantaYield},
};

struct Note {
  const char* benchmark;
  const char* text;
};
const Note kNotes[] = {
    {"raw switch (one call site)",
     "raw switch (one call site): per switch between two contexts running the same loop, "
     "as ULTs do in a runtime (quanta_ctx_switch vs jump_fcontext)."},
    {"raw switch (two call sites)",
     "raw switch (two call sites): per switch of a ping-pong whose sides switch from "
     "different code; quanta_ctx_switch resumes with `ret`, which the return-stack predictor "
     "gets wrong here and right in a runtime (see docs/performance.md)."},
    {"yield (2 ULTs, 1 worker)",
     "yield: per yield of 2 ULTs on 1 worker vs 2 fibers on 1 thread; std::thread: per "
     "handoff between 2 threads through std::mutex + std::condition_variable."},
    {"yield, round-robin",
     "yield, round-robin / spawn+join, round-robin: the same with Config::scheduler = "
     "RoundRobin (the rows above use the default, work stealing)."},
    {"spawn+join",
     "spawn+join: per spawn+join from inside a ULT (returning 1) vs from inside a fiber "
     "(empty); std::thread: per create+join of an empty thread."},
    {"metrics overhead (yield)",
     "metrics overhead: the yield row with the default switch-latency sampling (one switch "
     "in 32 timed) vs Config::metrics=false; a ratio of 1.05 is 5 % slower with metrics on "
     "(goal: under 1.05)."},
    {"thread metrics overhead (yield)",
     "thread metrics overhead: the yield row with Config::thread_metrics=true (every run of "
     "every ULT timed: one cycle-counter read per switch) vs the default."},
    {"profiling overhead (yield)",
     "profiling overhead: the yield row with both ULTs spawned with "
     "ThreadBuilder::profiling(true) (the worker's perf events read at every switch: one "
     "read() system call per event group, shared by the ULT switched out and the one "
     "switched in) vs the default."},
    {"tracing overhead (yield)",
     "tracing overhead: the yield and spawn+join rows with Config::trace_file set (to "
     "/dev/null; the default ring of 1 Mi events per worker, filled once before sampling) vs "
     "the same untraced."},
    {"tracing overhead (yield, fresh ring)",
     "tracing overhead (yield, fresh ring): traced as above, but each batch on a new runtime, "
     "so its events land in ring pages touched for the first time (page faults included)."},
};

constexpr int kSamples = 15;
constexpr int kQuickSamples = 3;
constexpr std::uint64_t kQuickDivisor = 20;

struct Options {
  bool quick = false;
  std::string json_path;
  std::string filter;
  std::string baseline_path;
  double tolerance_pct = 5;
};

// Exit status when --baseline flags a row (1: an error, 2: bad arguments).
constexpr int kExitWorse = 3;

void usage(std::ostream& out) {
  out << "usage: quanta-bench [--quick] [--json FILE] [--filter SUBSTR] [--baseline FILE "
         "[--tolerance PCT]]\n"
         "  --quick          "
      << kQuickSamples << " samples of 1/" << kQuickDivisor
      << " batches; preemption runs of 0.2 s, one each (smoke test; figures are rough)\n"
         "  --json FILE      also write the results, with min/max per case, to FILE\n"
         "  --filter SUBSTR  only rows whose \"benchmark peer\" contains SUBSTR "
         "(case-insensitive;\n"
         "                   workload and preemption rows: their line below contains it;\n"
         "                   \"workloads\" and \"preempt\" select the whole section)\n"
         "  --baseline FILE  compare each row's quanta/peer ratio with FILE (a previous --json);\n"
         "                   exit "
      << kExitWorse
      << " when a row got more than PCT % worse (rows on one side only are\n"
         "                   listed, not failed; preemption rows are not compared)\n"
         "  --tolerance PCT  the threshold of --baseline, default 5\n"
         "rows:\n";
  for (const RowSpec& r : kRows) out << "  " << r.benchmark << " / " << r.peer.impl << "\n";
  out << "workload rows (about a minute in a full run):\n";
  for (const std::string& w : workload_rows()) out << "  " << w << "\n";
  out << "preemption rows (about a minute in a full run):\n";
  for (const std::string& g : preemption_groups()) out << "  " << g << "\n";
}

// Returns false (after printing why) when the arguments are not usable.
bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--quick") {
      o.quick = true;
    } else if ((a == "--json" || a == "--filter" || a == "--baseline") && i + 1 < argc) {
      (a == "--json" ? o.json_path : a == "--filter" ? o.filter : o.baseline_path) = argv[++i];
    } else if (a == "--tolerance" && i + 1 < argc) {
      const char* v = argv[++i];
      char* end = nullptr;
      o.tolerance_pct = std::strtod(v, &end);
      if (end == v || *end || !std::isfinite(o.tolerance_pct) || o.tolerance_pct < 0) {
        std::cerr << "quanta-bench: --tolerance '" << v
                  << "' is invalid; expected a percentage >= 0, e.g. 5\n";
        return false;
      }
    } else if (a == "--help" || a == "-h") {
      usage(std::cout);
      std::exit(0);
    } else {
      std::cerr << "quanta-bench: unexpected argument '" << a << "'\n";
      usage(std::cerr);
      return false;
    }
  }
  return true;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool selected(const RowSpec& r, const std::string& filter) {
  return filter.empty() ||
         lower(std::string(r.benchmark) + " " + r.peer.impl).find(lower(filter)) !=
             std::string::npos;
}

}  // namespace

int run(int argc, char** argv) {
  Options opt;
  if (!parse(argc, argv, opt)) return 2;
  // Read before measuring, so that a bad file fails at once.
  std::optional<Baseline> baseline;
  if (!opt.baseline_path.empty()) baseline = read_baseline(opt.baseline_path);

  std::vector<const RowSpec*> rows;
  for (const RowSpec& r : kRows) {
    if (selected(r, opt.filter)) rows.push_back(&r);
  }
  const bool preempt_rows = preemption_selected(opt.filter);
  const bool workload_rows = workloads_selected(opt.filter);
  if (rows.empty() && !preempt_rows && !workload_rows) {
    std::cerr << "quanta-bench: no row matches --filter '" << opt.filter << "'\n";
    usage(std::cerr);
    return 2;
  }

  const bool progress = isatty(STDERR_FILENO) != 0;
  const int samples = opt.quick ? kQuickSamples : kSamples;
  auto ops_of = [&](const CaseSpec& c) {
    // Kept even: the two-sided cases split ops between two parties.
    return opt.quick ? std::max<std::uint64_t>(c.ops / kQuickDivisor, 20) & ~std::uint64_t{1}
                     : c.ops;
  };

  Run result;
  result.machine = machine_info();
  result.quick = opt.quick;
  result.quanta_config = "Config{workers=1, preempt=false} (default scheduler: work stealing) for the yield and spawn+join rows";

  // Rows of one benchmark are sampled together, their cases interleaved; a
  // case shared by several rows (quanta's) is measured once.
  std::vector<std::string_view> benchmarks;
  for (const RowSpec* r : rows) {
    if (std::find(benchmarks.begin(), benchmarks.end(), r->benchmark) == benchmarks.end()) {
      benchmarks.push_back(r->benchmark);
    }
  }
  for (const std::string_view bench : benchmarks) {
    std::vector<const CaseSpec*> specs;
    for (const RowSpec* r : rows) {
      if (r->benchmark != bench) continue;
      for (const CaseSpec* c : {&r->quanta, &r->peer}) {
        const bool seen = std::any_of(specs.begin(), specs.end(),
                                      [&](const CaseSpec* s) { return s->make == c->make; });
        if (!seen) specs.push_back(c);
      }
    }
    if (progress) std::cerr << "measuring " << bench << " ...\n";
    std::vector<Stats> stats;
    {
      std::vector<Case> cases;
      for (const CaseSpec* c : specs) cases.push_back({c->make(), ops_of(*c)});
      stats = sample_interleaved(cases, samples);
    }  // setup (runtimes, contexts) released here
    auto stats_of = [&](const CaseSpec& c) {
      for (std::size_t i = 0; i < specs.size(); ++i) {
        if (specs[i]->make == c.make) return Measured{c.impl, stats[i]};
      }
      return Measured{c.impl, {}};
    };
    for (const RowSpec* r : rows) {
      if (r->benchmark != bench) continue;
      result.rows.push_back({r->benchmark, stats_of(r->quanta), stats_of(r->peer)});
    }
  }
  for (const Note& n : kNotes) {
    const bool shown = std::any_of(rows.begin(), rows.end(), [&](const RowSpec* r) {
      return std::string_view(r->benchmark) == n.benchmark;
    });
    if (shown) result.notes.emplace_back(n.text);
  }

  if (workload_rows) result.workloads = measure_workloads(opt.quick, opt.filter, progress);
  if (preempt_rows) result.preemption = measure_preemption(opt.quick, opt.filter, progress);

  print_table(std::cout, result);
  if (!opt.json_path.empty() && !write_json(opt.json_path, result)) {
    std::cerr << "quanta-bench: cannot write " << opt.json_path << "\n";
    return 1;
  }
  if (baseline && compare_with_baseline(std::cout, *baseline, result, opt.tolerance_pct) > 0)
    return kExitWorse;
  return 0;
}

}  // namespace qbench

int main(int argc, char** argv) {
  try {
    return qbench::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "quanta-bench: " << e.what() << "\n";
    return 1;
  }
}
