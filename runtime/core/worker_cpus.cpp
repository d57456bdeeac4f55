// quanta — where a runtime's workers sit, and their steal orders.
#include "core/worker_cpus.hpp"

#include <algorithm>
#include <exception>
#include <tuple>

#include "topology/topology_data.hpp"

namespace quanta::detail {

WorkerCpus place_workers(const Config& cfg) {
  WorkerCpus out;
  std::vector<int> candidates;
  if (cfg.topology) {
    out.topo = *cfg.topology;
    try {
      out.machine = *cfg.topology == topology();
    } catch (const std::exception&) {
      out.machine = false;  // the machine cannot be read: it is not this one
    }
    candidates = out.topo->pus();
    std::sort(candidates.begin(), candidates.end());
  } else {
    try {
      out.topo = topology();
    } catch (const std::exception&) {
      // Run without one: no NUMA placement, steal orders round the ring.
    }
    candidates = affinity_pus();
  }
  unsigned n = cfg.workers;
  if (n == 0) n = candidates.empty() ? 1u : static_cast<unsigned>(candidates.size());
  out.pin = out.machine && !candidates.empty();
  const unsigned first_node = out.topo ? out.topo->nodes().front() : 0u;
  for (unsigned i = 0; i < n; ++i) {
    const int cpu = candidates.empty() ? -1 : candidates[i % candidates.size()];
    unsigned node = first_node;
    if (out.topo && cpu >= 0) {
      try {
        node = out.topo->node_of_pu(cpu);
      } catch (const std::exception&) {
        // An allowed CPU the topology does not list (the affinity changed
        // since it was loaded): its node is unknown.
      }
    }
    out.cpus.push_back(cpu);
    out.nodes.push_back(node);
  }
  return out;
}

std::vector<std::vector<unsigned>> victim_orders(const std::vector<int>& cpus,
                                                 const Topology* topo) {
  const unsigned n = static_cast<unsigned>(cpus.size());
  std::vector<std::vector<unsigned>> out(n);
  auto ring = [&] {
    for (unsigned i = 0; i < n; ++i) {
      out[i].clear();
      for (unsigned k = 1; k < n; ++k) out[i].push_back((i + k) % n);
    }
    return out;
  };
  if (!topo || std::find(cpus.begin(), cpus.end(), -1) != cpus.end()) return ring();
  try {
    for (unsigned i = 0; i < n; ++i) {
      struct Ranked {
        int closeness;
        unsigned distance;
        unsigned ring;
        unsigned worker;
      };
      std::vector<Ranked> ranked;
      const unsigned node_i = topo->node_of_pu(cpus[i]);
      for (unsigned k = 1; k < n; ++k) {
        const unsigned j = (i + k) % n;
        ranked.push_back({topo->closeness(cpus[i], cpus[j]),
                          topo->distance(node_i, topo->node_of_pu(cpus[j])), k, j});
      }
      std::sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
        return std::tie(a.closeness, a.distance, a.ring) < std::tie(b.closeness, b.distance, b.ring);
      });
      for (const Ranked& r : ranked) out[i].push_back(r.worker);
    }
  } catch (const std::exception&) {
    return ring();  // a PU the topology does not list
  }
  return out;
}

}  // namespace quanta::detail
