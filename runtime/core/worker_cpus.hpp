// quanta — where a runtime's workers sit: the PU and NUMA node of each, the
// topology they are placed on, whether their threads are pinned, and the
// order in which each steals from the others.
#pragma once
#include <optional>
#include <vector>

#include "quanta/config.hpp"
#include "quanta/topology.hpp"

namespace quanta::detail {

struct WorkerCpus {
  // The runtime's topology: Config::topology, or the machine's; empty when
  // the machine's could not be read.
  std::optional<Topology> topo;
  // topo is the machine as this process sees it (quanta::topology()): the
  // threads are pinned (when the CPUs are known) and stacks may be bound to
  // its nodes. False for any other Config::topology.
  bool machine = true;
  // Per worker: its PU (-1 when the process's CPU affinity could not be
  // read) and that PU's node (the topology's first node when unknown).
  std::vector<int> cpus;
  std::vector<unsigned> nodes;
  bool pin = false;
};

// Resolves cfg.workers (0 = one per PU) and gives worker i the (i mod n)-th
// of the n candidate PUs in ascending order: those of cfg.topology when set,
// else the CPUs of the process's affinity mask. Never throws for an
// unreadable machine (the topology is then empty and nodes are 0).
WorkerCpus place_workers(const Config& cfg);

// For each worker, the others in the order it steals from them: nearest
// first by the closeness of their PUs (workers sharing a PU count as the
// same core), then NUMA distance, then round the ring from the thief; round
// the ring only when the PUs or the topology are unknown.
std::vector<std::vector<unsigned>> victim_orders(const std::vector<int>& cpus,
                                                 const Topology* topo);

}  // namespace quanta::detail
