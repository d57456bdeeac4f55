#include "machine_info.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <string_view>

#ifndef QUANTA_BENCH_BUILD_TYPE
#define QUANTA_BENCH_BUILD_TYPE ""
#endif

namespace qbench {
namespace {

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

// The first "model name" line (x86); other ISAs name the CPU under other keys.
std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string fallback;
  for (std::string line; std::getline(in, line);) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim(std::string_view(line).substr(0, colon));
    const std::string value = trim(std::string_view(line).substr(colon + 1));
    if (value.empty()) continue;
    if (key == "model name") return value;
    if (fallback.empty() && (key == "Hardware" || key == "uarch" || key == "Model" ||
                             key == "cpu model" || key == "CPU part")) {
      fallback = key == "CPU part" ? "CPU part " + value : value;
    }
  }
  return fallback.empty() ? "unknown" : fallback;
}

std::string kernel() {
  utsname u{};
  if (uname(&u) != 0) return "unknown";
  return std::string(u.sysname) + " " + u.release + " " + u.machine;
}

std::string compiler() {
#if defined(__clang__)
  return "Clang " __clang_version__;
#elif defined(__GNUC__)
  return "GCC " __VERSION__;
#else
  return "unknown";
#endif
}

}  // namespace

MachineInfo machine_info() {
  MachineInfo m;
  m.cpu_model = cpu_model();
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  m.logical_cpus = n > 0 ? static_cast<unsigned>(n) : 0;
  m.kernel = kernel();
  m.compiler = compiler();
  m.build_type = QUANTA_BENCH_BUILD_TYPE;
  if (m.build_type.empty()) m.build_type = "(none)";
  return m;
}

}  // namespace qbench
