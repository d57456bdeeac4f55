// quanta — the hwloc topology loader (native builds, QUANTA_HAVE_HWLOC).
#pragma once
#include <string>

#include "quanta/topology.hpp"

namespace quanta::detail {

// This machine as hwloc sees it, every online PU included (also those outside
// the process's cgroup or affinity, as the sysfs reader does). Throws
// ResourceError when hwloc cannot load it.
Topology load_hwloc_machine();

// An hwloc synthetic topology ("pack:2 numa:2 core:4 pu:2"). Throws
// ConfigError naming the description when hwloc rejects it.
Topology load_hwloc_synthetic(const std::string& desc);

}  // namespace quanta::detail
