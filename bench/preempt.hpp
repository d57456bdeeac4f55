// The preemption section of quanta-bench: spinning ULTs (and, as peers,
// spinning kernel threads hit by signals) whose work is counted, over a
// window or in phases that alternate with a baseline. Every case builds its
// own runtimes or threads and tears them down before it returns.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

#include <quanta/preempt.hpp>

#include "report.hpp"

namespace qbench {

// One unit of spin work: an empty loop the compiler must keep (an empty asm
// statement with a memory clobber per iteration). It calls nothing and never
// yields, so it runs entirely in the executable's own code, where quanta may
// preempt it.
inline constexpr unsigned kSpinUnitIters = 256;
[[gnu::always_inline]] inline void spin_unit() noexcept {
  for (unsigned i = 0; i < kSpinUnitIters; ++i) asm volatile("" ::: "memory");
}

using Seconds = std::chrono::duration<double>;

// CPU time of the whole process so far, in seconds.
double process_cpu_now();

// The kernel-thread peers' signal (quanta's own is SIGURG) and its SA_SIGINFO
// handler, which only counts. Idempotent.
inline constexpr int kPeerSignal = SIGUSR1;
void install_peer_handler();
// Signals that handler has counted so far.
std::uint64_t peer_signals_handled();

// Work done by spinning ULTs over one measured window.
struct SpinResult {
  std::vector<std::uint64_t> units;  // per ULT
  double seconds = 0;                // the window, wall time
  double cpu_seconds = 0;            // CPU time of the workers in it
  // Times the runtime's threads other than the workers (the preemption
  // monitor, when on) went to sleep in the window: its sampling wake-ups.
  std::uint64_t monitor_sleeps = 0;
  quanta::PreemptionStats counters;  // the counters' growth over the window

  std::uint64_t total() const noexcept;
};

// The CPUs this process may run on, ascending, and how many (quanta's
// default worker count; workers are pinned to them in this order).
std::vector<int> allowed_cpus();
unsigned allowed_cpu_count();

// Pins the calling thread to the i-th allowed CPU (modulo their number), as
// quanta pins worker i; no-op when the CPUs are unknown.
void pin_to_allowed_cpu(const std::vector<int>& cpus, std::size_t i);

// Voluntary context switches (sleeps) of the given threads of this process,
// summed, from /proc/self/task.
std::uint64_t thread_sleeps(const std::vector<pid_t>& tids);

// after - before, per worker and in total.
quanta::PreemptionStats counters_growth(const quanta::PreemptionStats& after,
                                        const quanta::PreemptionStats& before);

// Spin units per microsecond of this thread spinning alone (the best of five
// 4 ms rounds).
double spin_units_per_us();

// `ults` spinning ULTs on a runtime of `workers` workers (0: one per CPU),
// spawned from this thread (quanta spreads them round-robin over the
// workers), counted from `go` to `stop` over `window`.
SpinResult quanta_spin(unsigned workers, unsigned ults, bool preempt,
                       std::chrono::microseconds slice, Seconds window);

// Run lengths of two spinning ULTs on one worker, preempted in turn.
struct LatenessResult {
  std::vector<double> run_ns;     // wall time of each run that ended in a preemption taken
  std::vector<double> switch_ns;  // per preemption: last clock read of the preempted ULT to
                                  // the first read of the ULT that ran next
  std::uint64_t other_gaps = 0;   // gaps with no preemption taken (the worker thread itself
                                  // was not running: kernel or hypervisor)
  std::uint64_t runs_with_other_gaps = 0;  // of run_ns, runs that contain such a gap
  double read_interval_ns = 0;             // mean time between two clock reads while running
  std::uint64_t monitor_sleeps = 0;
  quanta::PreemptionStats counters;
  double seconds = 0;
};
// The spinners read steady_clock every `units_per_read` spin units.
LatenessResult quanta_lateness(std::chrono::microseconds slice, Seconds window,
                               unsigned units_per_read);

// Cost of one event (a preemption, a signal) measured by alternating phases
// within one run: A phases, where one spinner runs alone and nothing
// interrupts it, and B phases, where the events happen. Alternating every
// few tens of milliseconds keeps the machine's slow throughput drift (several
// % on a VM) out of the comparison.
struct PhaseSample {
  double wall = 0;           // seconds since the start
  double cpu = 0;            // CPU time of the spinning thread(s), seconds
  std::uint64_t units = 0;   // work units done so far
  std::uint64_t events = 0;  // events so far
};
struct PhaseCost {
  std::vector<double> cpu_ns;   // per B phase: (C_B - U_B / R_A) / events_B, CPU time
  std::vector<double> wall_ns;  // the same in wall time
  double events_per_s = 0;      // in the B phases
  double seconds = 0;           // the whole run
  quanta::PreemptionStats counters;
};
// Phase k spans samples k..k+1; odd k are B phases, each with an A phase on
// either side, whose pooled rate is R_A.
PhaseCost phase_costs(const std::vector<PhaseSample>& samples);

// quanta: one worker; ULT 1 spins throughout, ULT 2 spins during B phases and
// sleeps during A phases, so the B phases are preempted at `slice`.
PhaseCost quanta_phase_cost(std::chrono::microseconds slice, std::chrono::milliseconds phase,
                            int pairs);
// Peer: a spinning kernel thread, tgkill()ed every `period` during B phases.
PhaseCost signal_phase_cost(std::chrono::microseconds period, std::chrono::milliseconds phase,
                            int pairs);

// Peer of LatenessResult::switch_ns: a spinning kernel thread reading
// steady_clock every `units_per_read` units and tgkill()ed every `period`;
// per signal handled, the gap between the reads on either side of it.
std::vector<double> signal_gaps(std::chrono::microseconds period, Seconds window,
                                unsigned units_per_read);

// Several spinner groups alive at once that take turns: phase k belongs to
// group owner[k], whose spinners spin through it while every other group
// sleeps (parked workers, a sleeping monitor, disarmed timers). Comparing a
// phase with the baseline phases next to it keeps the VM's slow throughput
// drift out of the comparison, as with PhaseCost.
struct PhasedGroup {
  bool quanta = true;                     // a quanta runtime; false: kernel threads
  unsigned workers = 0;                   // quanta: Config::workers (0: one per CPU)
  unsigned spinners = 0;                  // ULTs, or kernel threads (pinned one per allowed CPU)
  bool preempt = false;                   // quanta
  std::chrono::microseconds slice{1000};  // quanta
  std::chrono::microseconds timer{0};     // kernel threads: per-thread timer interval, 0 = none
};
struct PhasedResult {
  // At each phase boundary: wall and process CPU time, the units of all groups.
  std::vector<PhaseSample> samples;
  std::vector<quanta::PreemptionStats> counters;  // per group: growth over the run
  std::vector<std::uint64_t> monitor_sleeps;      // per group: its monitor's sleeps
  std::vector<std::uint64_t> signals;             // per group: timer signals handled
};
PhasedResult run_phased(const std::vector<PhasedGroup>& groups,
                        const std::vector<std::size_t>& owner, std::chrono::milliseconds phase);

// Measures the selected groups of preemption rows (all when filter is empty;
// a group is selected when its key contains the filter, case-insensitive).
// Returns an empty section when none is selected.
PreemptSection measure_preemption(bool quick, const std::string& filter, bool progress);

// Names of the preemption row groups, for --help.
std::vector<std::string> preemption_groups();

// Whether any preemption group matches the filter.
bool preemption_selected(const std::string& filter);

}  // namespace qbench
