// The preemption section of quanta-bench: which runs make each row and how
// the rows' figures are computed from them.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "preempt.hpp"

namespace qbench {
namespace {

using std::chrono::microseconds;
using namespace std::chrono_literals;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Ctx {
  bool quick = false;
  bool progress = false;
  Seconds window{1};  // T of the fairness (2T) and lateness runs
  // The turns of the phased rows: T = cycles * phase per configuration.
  int cycles = 40;
  std::chrono::milliseconds phase{50};
};

double median(std::vector<double> v) {
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Nearest-rank percentile of a sorted sample.
double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return kNaN;
  const auto rank =
      static_cast<std::size_t>(std::ceil(p / 100 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

std::string slice_name(microseconds s) {
  if (s.count() % 1000 == 0) return std::to_string(s.count() / 1000) + " ms";
  return std::to_string(s.count()) + " us";
}

void say(const Ctx& c, const std::string& what) {
  if (c.progress) std::cerr << "measuring preemption: " << what << " ...\n";
}

double lost_percent(double on_rate, double off_rate) {
  return off_rate > 0 ? 100 * (1 - on_rate / off_rate) : kNaN;
}

double jain(const std::vector<std::uint64_t>& x) {
  double s = 0, s2 = 0;
  for (const std::uint64_t v : x) {
    s += static_cast<double>(v);
    s2 += static_cast<double>(v) * static_cast<double>(v);
  }
  return s2 > 0 ? s * s / (static_cast<double>(x.size()) * s2) : kNaN;
}

// ---- 1. cost of one preemption vs a bare signal ----------------------------

Side cost_side(std::string impl, const PhaseCost& pc, std::vector<double> direct) {
  std::sort(direct.begin(), direct.end());
  return {
      std::move(impl),
      "ns",
      {{"", median(pc.cpu_ns)}, {"wall", median(pc.wall_ns)}, {"direct", percentile(direct, 50)}}};
}

void cost_details(std::vector<Figure>& d, const std::string& who, const PhaseCost& pc,
                  std::vector<double> direct) {
  std::vector<double> v = pc.cpu_ns;
  std::sort(v.begin(), v.end());
  std::sort(direct.begin(), direct.end());
  d.push_back({who + "_cost_ns_p25_of_phases", percentile(v, 25)});
  d.push_back({who + "_cost_ns_p75_of_phases", percentile(v, 75)});
  d.push_back({who + "_b_phases", static_cast<double>(v.size())});
  d.push_back({who + "_events_per_s_in_b_phases", pc.events_per_s});
  d.push_back({who + "_direct_gap_ns_p99", percentile(direct, 99)});
  d.push_back({who + "_direct_samples", static_cast<double>(direct.size())});
}

void measure_cost(const Ctx& c, PreemptSection& out) {
  constexpr microseconds kSlice = 100us;
  const auto phase = c.quick ? std::chrono::milliseconds(20) : std::chrono::milliseconds(50);
  const int pairs = c.quick ? 5 : 40;
  const Seconds direct_window = c.quick ? Seconds(0.2) : Seconds(1.0);
  say(c, "cost of one preemption");
  const PhaseCost q = quanta_phase_cost(kSlice, phase, pairs);
  const PhaseCost p = signal_phase_cost(kSlice, phase, pairs);
  const double upu = spin_units_per_us();
  const auto per_read = static_cast<unsigned>(std::max(1.0, std::round(upu / 4)));
  const LatenessResult qd = quanta_lateness(kSlice, direct_window, per_read);
  const std::vector<double> pd = signal_gaps(kSlice, direct_window, per_read);

  PreemptRow r;
  r.benchmark = "cost of one preemption (1 worker, slice 100 us)";
  r.quanta = cost_side("2 spinning ULTs, monitor preempts", q, qd.switch_ns);
  r.peer = cost_side("tgkill + no-op SA_SIGINFO handler", p, pd);
  r.details = {{"phase_ms", static_cast<double>(phase.count())},
               {"seconds_per_phase_run", q.seconds},
               {"direct_seconds", direct_window.count()},
               {"direct_read_interval_ns", qd.read_interval_ns}};
  cost_details(r.details, "quanta", q, qd.switch_ns);
  cost_details(r.details, "peer", p, pd);
  r.counters = q.counters;
  out.rows.push_back(std::move(r));
  out.notes.emplace_back(
      "cost of one preemption: Config{workers=1, time_slice=100 us}; one run of " +
      std::to_string(2 * pairs + 1) + " alternating " + std::to_string(phase.count()) +
      " ms phases: A, one ULT spins alone (an empty asm loop, never yielding); B, a second "
      "spinning ULT joins, so the monitor preempts them in turn. Per B phase, cost = (C - W/R) / "
      "P: C = the worker thread's CPU time in the phase, W = work units done, R = units per "
      "CPU-second in the two A phases around it, P = preemptions taken (preemption_stats); i.e. "
      "the CPU time per preemption not spent on the work (signal delivery, handler, switch, cache "
      "effects); median over the B phases. \"wall\": the same with wall time for C and R. Peer: "
      "a spinning kernel thread pinned to the same CPU, tgkill()ed with SIGUSR1 every 100 us "
      "(nanosleep) by another thread in its B phases, SA_SIGINFO handler that only counts; "
      "P = signals handled. \"direct\": median gap, seen by the spinning code, between the last "
      "clock read before the interruption and the first one after it (quanta: of the other "
      "ULT), reading steady_clock every ~0.25 us of work; the short phases and the direct gap "
      "keep the VM's slow throughput drift (several %) out of the figure.");
}

// ---- 2. CPU share lost at three slices --------------------------------------

// Work lost in the phases of group `on` against the nearest phases of group
// `base` on either side, per phase: by units per process CPU-second and by
// units per wall-second.
struct PhasedLoss {
  std::vector<double> cpu, wall;
  double on_seconds = 0;  // wall time of the `on` phases
};

PhasedLoss phased_loss(const PhasedResult& r, const std::vector<std::size_t>& owner, std::size_t on,
                       std::size_t base) {
  PhasedLoss out;
  const auto& s = r.samples;
  const auto units = [&](std::size_t k) {
    return static_cast<double>(s[k + 1].units - s[k].units);
  };
  const auto cpu = [&](std::size_t k) { return s[k + 1].cpu - s[k].cpu; };
  const auto wall = [&](std::size_t k) { return s[k + 1].wall - s[k].wall; };
  for (std::size_t k = 0; k < owner.size() && k + 1 < s.size(); ++k) {
    if (owner[k] != on) continue;
    out.on_seconds += wall(k);
    double bu = 0, bc = 0, bw = 0;
    for (std::size_t j = k; j-- > 0;) {
      if (owner[j] != base) continue;
      bu += units(j), bc += cpu(j), bw += wall(j);
      break;
    }
    for (std::size_t j = k + 1; j < owner.size() && j + 1 < s.size(); ++j) {
      if (owner[j] != base) continue;
      bu += units(j), bc += cpu(j), bw += wall(j);
      break;
    }
    if (bu <= 0 || cpu(k) <= 0) continue;
    out.cpu.push_back(lost_percent(units(k) / cpu(k), bu / bc));
    out.wall.push_back(lost_percent(units(k) / wall(k), bu / bw));
  }
  return out;
}

Side loss_side(std::string impl, const PhasedLoss& l) {
  return {std::move(impl), "%", {{"", median(l.cpu)}, {"wall", median(l.wall)}}};
}

void loss_details(std::vector<Figure>& d, const std::string& who, const PhasedLoss& l) {
  std::vector<double> v = l.cpu;
  std::sort(v.begin(), v.end());
  d.push_back({who + "lost_pct_p25_of_phases", percentile(v, 25)});
  d.push_back({who + "lost_pct_p75_of_phases", percentile(v, 75)});
  d.push_back({who + "phases", static_cast<double>(v.size())});
  d.push_back({who + "seconds", l.on_seconds});
}

double per_s(std::uint64_t n, double seconds) {
  return seconds > 0 ? static_cast<double>(n) / seconds : kNaN;
}

void measure_share_lost(const Ctx& c, PreemptSection& out) {
  const microseconds slices[] = {100us, 1000us, 10000us};
  const unsigned cpus = allowed_cpu_count();
  const unsigned ults = 2 * cpus;
  say(c, "CPU share lost");
  // Group 0: preemption off; 1..3: on at each slice.
  std::vector<PhasedGroup> groups;
  groups.push_back({true, 0, ults, false, 1000us, 0us});
  for (const microseconds s : slices) groups.push_back({true, 0, ults, true, s, 0us});
  std::vector<std::size_t> owner;
  for (int i = 0; i < c.cycles; ++i) owner.insert(owner.end(), {0, 1, 0, 2, 0, 3});
  owner.push_back(0);
  const PhasedResult pr = run_phased(groups, owner, c.phase);
  for (std::size_t s = 0; s < std::size(slices); ++s) {
    const PhasedLoss l = phased_loss(pr, owner, s + 1, 0);
    PreemptRow r;
    r.benchmark = "CPU share lost, slice " + slice_name(slices[s]);
    r.quanta =
        loss_side(std::to_string(ults) + " spinning ULTs, " + std::to_string(cpus) + " workers", l);
    r.peer = Side{"preemption off (baseline)", "%", {{"", 0.0}}};
    if (slices[s] == 1000us) r.goal = "< 1 %";
    r.details = {{"phase_ms", static_cast<double>(c.phase.count())},
                 {"preemptions_per_s", per_s(pr.counters[s + 1].total.taken, l.on_seconds)},
                 {"monitor_wakeups_per_s", per_s(pr.monitor_sleeps[s + 1], l.on_seconds)}};
    loss_details(r.details, "", l);
    r.counters = pr.counters[s + 1];
    out.rows.push_back(std::move(r));
  }
  out.notes.emplace_back(
      "CPU share lost: workers = one per CPU (" + std::to_string(cpus) + "), " +
      std::to_string(ults) +
      " spinning ULTs. Four runtimes (preemption off, on at 100 us, 1 ms, "
      "10 ms) exist at once and take turns in " +
      std::to_string(c.phase.count()) + " ms phases (off, 100 us, off, 1 ms, off, 10 ms, ...; " +
      std::to_string(c.cycles) +
      " turns each); the runtimes not in turn have their ULTs asleep, their workers parked and "
      "their monitors asleep. Per phase, lost = 1 - (work units per CPU-second of the process) / "
      "(the same in the preemption-off phases on either side); median over the phases. The "
      "process's CPU time includes the monitor thread, so this counts everything preemption "
      "adds: the monitor's sampling on the workers' CPUs and every preemption. \"wall\": the "
      "same per wall-second (work units per second), which also moves with whatever else the "
      "machine runs.");
}

// ---- 3. Jain fairness --------------------------------------------------------

void measure_fairness(const Ctx& c, PreemptSection& out) {
  constexpr unsigned kUlts = 64;
  const Seconds t = c.window * 2;
  say(c, "Jain fairness");
  const SpinResult on = quanta_spin(0, kUlts, true, 1000us, t);
  const SpinResult off = quanta_spin(0, kUlts, false, 1000us, t);
  const double mean = static_cast<double>(on.total()) / kUlts;
  const auto [mn, mx] = std::minmax_element(on.units.begin(), on.units.end());
  PreemptRow r;
  r.benchmark = "Jain fairness, 64 ULTs, slice 1 ms";
  r.quanta = {"64 spinning ULTs, " + std::to_string(allowed_cpu_count()) + " workers",
              "",
              {{"", jain(on.units)}}};
  r.peer = Side{"preemption off", "", {{"", jain(off.units)}}};
  r.goal = ">= 0.99";
  r.details = {{"seconds", t.count()},
               {"min_share_of_mean", mean > 0 ? static_cast<double>(*mn) / mean : kNaN},
               {"max_share_of_mean", mean > 0 ? static_cast<double>(*mx) / mean : kNaN},
               {"preemptions_per_s", static_cast<double>(on.counters.total.taken) / on.seconds},
               {"worker_cpu_s_on", on.cpu_seconds}};
  r.counters = on.counters;
  out.rows.push_back(std::move(r));
  out.notes.emplace_back(
      "Jain fairness: 64 ULTs spin for 2T on one worker per CPU (spawned round-robin over the "
      "workers); J = (sum x)^2 / (n * sum x^2) over the work units x of each ULT: 1 when all got "
      "the same, 1/n when one got everything. Preemption off: each worker runs one ULT through the "
      "window and the rest never start.");
}

// ---- 4. lateness of preemption -----------------------------------------------

void measure_lateness(const Ctx& c, PreemptSection& out) {
  say(c, "lateness of preemption");
  const auto per_read = static_cast<unsigned>(std::max(1.0, std::round(spin_units_per_us())));
  const std::pair<microseconds, Seconds> cases[] = {{100us, c.window}, {1000us, c.window * 2}};
  for (const auto& [slice, t] : cases) {
    const LatenessResult lr = quanta_lateness(slice, t, per_read);
    std::vector<double> late;
    const double slice_ns = std::chrono::duration<double, std::nano>(slice).count();
    for (const double run : lr.run_ns) late.push_back((run - slice_ns) / 1000);
    std::sort(late.begin(), late.end());
    PreemptRow r;
    r.benchmark = "lateness after the slice, slice " + slice_name(slice);
    r.quanta = {"2 spinning ULTs, 1 worker",
                "us",
                {{"p50", percentile(late, 50)},
                 {"p99", percentile(late, 99)},
                 {"max", late.empty() ? kNaN : late.back()}}};
    std::vector<double> sw = lr.switch_ns;
    std::sort(sw.begin(), sw.end());
    r.details = {{"seconds", lr.seconds},
                 {"samples", static_cast<double>(late.size())},
                 {"min_us", late.empty() ? kNaN : late.front()},
                 {"gaps_without_preemption", static_cast<double>(lr.other_gaps)},
                 {"runs_containing_such_a_gap", static_cast<double>(lr.runs_with_other_gaps)},
                 {"clock_read_interval_ns", lr.read_interval_ns},
                 {"switch_gap_p50_ns", percentile(sw, 50)},
                 {"switch_gap_p99_ns", percentile(sw, 99)},
                 {"spin_units_per_clock_read", static_cast<double>(per_read)},
                 {"monitor_wakeups_per_s", static_cast<double>(lr.monitor_sleeps) / lr.seconds}};
    r.counters = lr.counters;
    out.rows.push_back(std::move(r));
  }
  out.notes.emplace_back(
      "lateness: Config{workers=1}, 2 ULTs spin, each reading steady_clock every ~1 us of work; a "
      "gap > 20 us between two reads means the ULT did not run, and it was switched out when "
      "this_thread::preemption_counters().taken moved across the gap. run = wall time from the "
      "first read after such a preemption gap to the last read before the next one; gaps without "
      "a preemption (the kernel or the hypervisor not running the worker thread) stay inside the "
      "run and are counted in the JSON. The first run of each ULT (begun before the window) is "
      "dropped. lateness = run - slice, over every run; resolution ~1 us. The clock reads run in "
      "the vDSO, where quanta does not preempt: a signal landing there is deferred (counted in the "
      "JSON) and re-sent later. JSON switch_gap: last read of the preempted ULT to the first read "
      "of the next one, i.e. one preemption's latency plus up to two read intervals.");
}

// ---- 5. monitor vs per-thread POSIX timer, nothing to preempt --------------

void measure_idle_cost(const Ctx& c, PreemptSection& out) {
  const microseconds slices[] = {1000us, 100us};
  const unsigned cpus = allowed_cpu_count();
  say(c, "monitor vs per-thread POSIX timer");
  // 0: quanta, preemption off; 1, 2: on at each slice; 3: kernel threads
  // without timers; 4, 5: with a timer at each slice.
  std::vector<PhasedGroup> groups;
  groups.push_back({true, 0, cpus, false, 1000us, 0us});
  for (const microseconds s : slices) groups.push_back({true, 0, cpus, true, s, 0us});
  groups.push_back({false, 0, cpus, false, 1000us, 0us});
  for (const microseconds s : slices) groups.push_back({false, 0, cpus, false, 1000us, s});
  std::vector<std::size_t> owner;
  for (int i = 0; i < c.cycles; ++i) owner.insert(owner.end(), {0, 1, 0, 2, 0, 3, 4, 3, 5, 3});
  const PhasedResult pr = run_phased(groups, owner, c.phase);
  for (std::size_t s = 0; s < std::size(slices); ++s) {
    const PhasedLoss q = phased_loss(pr, owner, 1 + s, 0);
    const PhasedLoss t = phased_loss(pr, owner, 4 + s, 3);
    PreemptRow r;
    r.benchmark = "idle cost, nothing to preempt, slice " + slice_name(slices[s]);
    r.quanta = loss_side("monitor, 1 spinning ULT per worker", q);
    r.peer = loss_side("per-thread POSIX timer, 1 spinning thread per CPU", t);
    r.details = {{"phase_ms", static_cast<double>(c.phase.count())},
                 {"monitor_wakeups_per_s", per_s(pr.monitor_sleeps[1 + s], q.on_seconds)},
                 {"timer_signals_per_s_per_thread", per_s(pr.signals[4 + s], t.on_seconds) / cpus}};
    loss_details(r.details, "quanta_", q);
    loss_details(r.details, "timer_", t);
    r.counters = pr.counters[1 + s];
    out.rows.push_back(std::move(r));
  }
  out.notes.emplace_back(
      "idle cost (monitor vs per-worker timer): work lost when nothing needs preempting, counted "
      "per phase as in \"CPU share lost\" (per CPU-second of the process; \"wall\": per "
      "wall-second), with six groups taking turns. quanta: workers = one per CPU, one spinning "
      "ULT each and nothing else runnable, so the monitor sends no signal (sent in the JSON) and "
      "costs only its sampling wake-ups every slice/2 on the workers' CPUs; vs the "
      "preemption-off runtime. Peer, the per-worker POSIX timer design: one spinning kernel "
      "thread per CPU (pinned as the workers are), each with its own timer (timer_create "
      "CLOCK_MONOTONIC, SIGEV_THREAD_ID to itself, interval = slice, armed only in its phases, "
      "SIGUSR1 handler that only counts); vs the same threads without timers.");
}

// CPU time of the whole machine and of this process, from /proc.
struct CpuTimes {
  bool ok = false;
  double busy = 0;   // all CPUs: user, nice, system, irq, softirq
  double steal = 0;  // all CPUs: taken by the hypervisor
  double self = 0;   // this process, every thread
  Clock::time_point at;
};

CpuTimes cpu_times() {
  CpuTimes t;
  t.at = Clock::now();
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream st("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, sys = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (!(st >> cpu >> user >> nice >> sys >> idle >> iowait >> irq >> softirq >> steal) ||
      cpu != "cpu" || tick <= 0)
    return t;
  t.busy = (user + nice + sys + irq + softirq) / tick;
  t.steal = steal / tick;
  std::ifstream self("/proc/self/stat");
  std::string line;
  std::getline(self, line);
  const auto paren = line.rfind(')');
  if (paren == std::string::npos) return t;
  std::istringstream fields(line.substr(paren + 1));
  std::string f;
  double utime = 0, stime = 0;
  // Fields 3 (state) .. 13 come before utime (14) and stime (15).
  for (int i = 3; i <= 13 && fields >> f; ++i) {
  }
  if (!(fields >> utime >> stime)) return t;
  t.self = (utime + stime) / tick;
  t.ok = true;
  return t;
}

std::vector<Figure> environment(const CpuTimes& a, const CpuTimes& b) {
  if (!a.ok || !b.ok) return {};
  const double capacity = Seconds(b.at - a.at).count() * allowed_cpu_count();
  if (capacity <= 0) return {};
  const double other = (b.busy - a.busy) - (b.self - a.self);
  return {{"other_processes_cpu_pct", std::max(0.0, 100 * other / capacity)},
          {"steal_pct", 100 * (b.steal - a.steal) / capacity}};
}

struct Group {
  const char* key;  // matched by --filter
  void (*measure)(const Ctx&, PreemptSection&);
};

const Group kGroups[] = {
    {"preemption: cost of one preemption / tgkill + no-op SA_SIGINFO handler", measure_cost},
    {"preemption: CPU share lost, slice 100 us, 1 ms, 10 ms / preemption off", measure_share_lost},
    {"preemption: Jain fairness, 64 ULTs, slice 1 ms / preemption off", measure_fairness},
    {"preemption: lateness after the slice, slice 100 us, 1 ms", measure_lateness},
    {"preemption: idle cost, nothing to preempt, monitor / per-thread POSIX timer",
     measure_idle_cost},
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return s;
}

bool matches(const Group& g, const std::string& filter) {
  return filter.empty() || lower(g.key).find(lower(filter)) != std::string::npos;
}

}  // namespace

std::vector<std::string> preemption_groups() {
  std::vector<std::string> v;
  for (const Group& g : kGroups) v.emplace_back(g.key);
  return v;
}

bool preemption_selected(const std::string& filter) {
  return std::any_of(std::begin(kGroups), std::end(kGroups),
                     [&](const Group& g) { return matches(g, filter); });
}

PreemptSection measure_preemption(bool quick, const std::string& filter, bool progress) {
  Ctx c;
  c.quick = quick;
  c.progress = progress;
  c.window = quick ? Seconds(0.2) : Seconds(1.0);
  c.cycles = quick ? 4 : 40;
  PreemptSection out;
  const CpuTimes before = cpu_times();
  for (const Group& g : kGroups) {
    if (matches(g, filter)) g.measure(c, out);
  }
  out.environment = environment(before, cpu_times());
  if (!out.rows.empty()) {
    char buf[300];
    std::snprintf(buf, sizeof buf,
                  "T = %.1f s per configuration (CPU share, idle cost: %d turns of %d ms "
                  "interleaved with the baseline; fairness, lateness at 1 ms: %.1f s); %u CPUs, "
                  "workers pinned one per CPU, round-robin scheduler",
                  c.cycles * c.phase.count() / 1000.0, c.cycles, static_cast<int>(c.phase.count()),
                  2 * c.window.count(), allowed_cpu_count());
    out.setup = buf;
  }
  return out;
}

}  // namespace qbench
