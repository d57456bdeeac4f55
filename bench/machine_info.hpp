// What the benchmark ran on, for the table header and the JSON file.
#pragma once
#include <string>

namespace qbench {

struct MachineInfo {
  std::string cpu_model;  // from /proc/cpuinfo; "unknown" when absent
  unsigned logical_cpus = 0;
  std::string kernel;  // uname: sysname release machine
  std::string compiler;
  std::string build_type;
};

MachineInfo machine_info();

}  // namespace qbench
