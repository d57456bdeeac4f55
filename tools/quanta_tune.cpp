// quanta-tune: measures this machine's costs (tune::calibrate), reads its
// topology and prints the recommended configuration with the reason for each
// value; --env prints it as shell lines for Config::from_env().
#include <cmath>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

#include <quanta/quanta.hpp>

#include "machine_info.hpp"

namespace {

void usage(std::ostream& out) {
  out << "usage: quanta-tune [--env | --check-env]\n"
         "  (no option)  measure this machine (about half a second), print the machine, the\n"
         "               measured costs and the recommended configuration with reasons\n"
         "  --env        measure, then print only the recommendation as shell lines:\n"
         "                 eval \"$(quanta-tune --env)\"\n"
         "  --check-env  measure nothing; print what Config::from_env() reads from the\n"
         "               current environment, in the --env form, then a line for each other\n"
         "               setting that is not the default (a bad value is an error)\n";
}

std::string ns(double v) {
  if (!std::isfinite(v)) return "n/a";
  char buf[32];
  if (v >= 10'000)
    std::snprintf(buf, sizeof buf, "%.1f us", v / 1000);
  else
    std::snprintf(buf, sizeof buf, "%.0f ns", v);
  return buf;
}

std::string bytes(std::size_t b) {
  if (b == 0) return "n/a";
  if (b % (1u << 20) == 0) return std::to_string(b >> 20) + " MiB";
  if (b % 1024 == 0) return std::to_string(b >> 10) + " KiB";
  return std::to_string(b) + " bytes";
}

void field(const char* name, const std::string& value, const std::string& reason) {
  std::printf("  %-11s %s\n              %s\n", name, value.c_str(), reason.c_str());
}

int report() {
  const qbench::MachineInfo m = qbench::machine_info();
  const quanta::Topology& topo = quanta::topology();
  const quanta::tune::Calibration c = quanta::tune::calibrate();
  const quanta::tune::Recommendation r = quanta::tune::recommend(c, topo);

  std::printf("machine\n");
  std::printf("  cpu         %s\n", m.cpu_model.c_str());
  std::printf("  kernel      %s\n", m.kernel.c_str());
  std::printf("  topology    %s (%s; the CPUs this process may run on)\n", topo.describe().c_str(),
              quanta::Topology::has_hwloc() ? "hwloc" : "sysfs");
  std::printf("  build       %s, %s\n", m.build_type.c_str(), m.compiler.c_str());
  std::printf("measured in %.2f s, 1 worker per runtime (short runs: quanta-bench measures these "
              "with care)\n", c.seconds);
  std::printf("  %-40s %s\n", "switch (yield between 2 ULTs)", ns(c.switch_ns).c_str());
  std::printf("  %-40s %s\n", "spawn+join (from a ULT)", ns(c.spawn_join_ns).c_str());
  std::printf("  %-40s %s\n", "preemption (CPU per preemption)", ns(c.preempt_ns).c_str());
  std::printf("  %-40s %s (wall, spinner to spinner)\n", "  switch gap", ns(c.preempt_switch_ns).c_str());
  std::printf("  %-40s %s (worker CPU beyond the work done)\n", "  CPU estimate",
              ns(c.preempt_cpu_ns).c_str());
  std::printf("  %-40s %llu taken of %llu signals, slice %lld us\n", "  preemptions",
              static_cast<unsigned long long>(c.preemptions),
              static_cast<unsigned long long>(c.signals_sent),
              static_cast<long long>(quanta::kMinTimeSlice.count()));
  std::printf("  %-40s %s\n", "wake-up of a parked worker (spawn to run)", ns(c.wake_ns).c_str());
  std::printf("  %-40s %s\n", "signal frame (AT_MINSIGSTKSZ)", bytes(c.signal_frame_bytes).c_str());
  std::printf("  %-40s %s (resident, %zu KiB stacks)\n", "memory per parked ULT",
              c.parked_ult_bytes > 0 ? bytes(static_cast<std::size_t>(c.parked_ult_bytes)).c_str()
                                     : "unknown (no /proc/self/statm)",
              quanta::kDefaultStackSize / 1024);
  std::printf("recommended\n");
  field("workers", std::to_string(r.workers), r.workers_reason);
  field("time_slice", std::to_string(r.time_slice.count()) + " us", r.time_slice_reason);
  field("stack_size", bytes(r.stack_size), r.stack_size_reason);
  field("scheduler",
        r.scheduler == quanta::SchedulerKind::RoundRobin ? "RoundRobin" : "WorkStealing",
        r.scheduler_reason);
  std::printf("as environment variables (eval \"$(quanta-tune --env)\"):\n%s", r.env().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2) {
    usage(std::cerr);
    return 2;
  }
  const std::string_view a = argc == 2 ? argv[1] : "";
  try {
    if (a.empty()) return report();
    if (a == "--env") {
      const auto c = quanta::tune::calibrate();
      std::cout << quanta::tune::recommend(c, quanta::topology()).env();
      return 0;
    }
    if (a == "--check-env") {
      const quanta::Config c = quanta::Config::from_env();
      std::cout << quanta::tune::env_lines(c) << quanta::tune::changed_env_lines(c);
      return 0;
    }
    if (a == "--help" || a == "-h") {
      usage(std::cout);
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "quanta-tune: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "quanta-tune: unexpected argument '" << a << "'\n";
  usage(std::cerr);
  return 2;
}
