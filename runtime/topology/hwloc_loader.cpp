// quanta — the hwloc topology loader (hwloc 2.x): the machine loader of native
// builds, and synthetic topologies for tests. Reports the same facts as the
// sysfs reader (topology_data.hpp), so both build equal Topology values for
// one machine.
//
// hwloc 2.x attaches NUMA nodes as memory children beside the CPU tree, so a
// PU's node is found through the node cpusets, not through its ancestors.
// NUMA distances come from the "latency" matrix hwloc reads from the OS (on
// Linux, node/nodeN/distance); without one the builder uses 10/20.
#include <hwloc.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "quanta/error.hpp"
#include "topology/hwloc_loader.hpp"
#include "topology/topology_data.hpp"

namespace quanta::detail {
namespace {

class HwlocTopology {
 public:
  HwlocTopology() {
    if (hwloc_topology_init(&t_) != 0) {
      int e = errno;
      throw ResourceError(std::string("quanta: hwloc_topology_init failed: ") + std::strerror(e));
    }
  }
  ~HwlocTopology() { hwloc_topology_destroy(t_); }
  HwlocTopology(const HwlocTopology&) = delete;
  HwlocTopology& operator=(const HwlocTopology&) = delete;
  hwloc_topology_t get() const noexcept { return t_; }

 private:
  hwloc_topology_t t_ = nullptr;
};

std::vector<int> pus_of(hwloc_const_cpuset_t set) {
  std::vector<int> out;
  if (!set) return out;
  unsigned id;
  hwloc_bitmap_foreach_begin(id, set) { out.push_back(static_cast<int>(id)); }
  hwloc_bitmap_foreach_end();
  return out;
}

TopologyFacts facts_of(hwloc_topology_t t) {
  TopologyFacts f;

  const int npu = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
  for (int i = 0; i < npu; ++i) {
    hwloc_obj_t pu = hwloc_get_obj_by_type(t, HWLOC_OBJ_PU, static_cast<unsigned>(i));
    hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_CORE, pu);
    hwloc_obj_t package = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_PACKAGE, pu);
    TopologyFacts::Pu p;
    p.os = static_cast<int>(pu->os_index);
    p.package = package ? static_cast<long>(package->logical_index) : 0;
    // No Core level (some synthetic descriptions): each PU is its own core.
    p.core = core ? static_cast<long>(core->logical_index) : -1 - static_cast<long>(pu->os_index);
    f.pus.push_back(p);
  }

  const int nnodes = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
  std::vector<hwloc_obj_t> node_objs;
  for (int i = 0; i < nnodes; ++i) {
    hwloc_obj_t n = hwloc_get_obj_by_type(t, HWLOC_OBJ_NUMANODE, static_cast<unsigned>(i));
    node_objs.push_back(n);
    f.nodes.push_back({n->os_index, pus_of(n->cpuset)});
  }

  for (hwloc_obj_type_t type : {HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L3CACHE,
                                HWLOC_OBJ_L4CACHE, HWLOC_OBJ_L5CACHE}) {
    const int n = hwloc_get_nbobjs_by_type(t, type);
    for (int i = 0; i < n; ++i) {
      hwloc_obj_t c = hwloc_get_obj_by_type(t, type, static_cast<unsigned>(i));
      if (c->attr->cache.type == HWLOC_OBJ_CACHE_INSTRUCTION) continue;
      f.caches.push_back({c->attr->cache.depth, pus_of(c->cpuset)});
    }
  }

  // The first latency matrix that covers every node.
  if (nnodes > 1) {
    hwloc_distances_s* found[8];
    unsigned nr = 8;
    if (hwloc_distances_get_by_type(t, HWLOC_OBJ_NUMANODE, &nr, found,
                                    HWLOC_DISTANCES_KIND_MEANS_LATENCY, 0) == 0) {
      nr = std::min(nr, 8u);
      for (unsigned k = 0; k < nr; ++k) {
        hwloc_distances_s* d = found[k];
        if (f.distances.empty() && d->nbobjs == static_cast<unsigned>(nnodes)) {
          // d->objs may list the nodes in any order.
          std::vector<int> pos(static_cast<std::size_t>(nnodes), -1);
          bool ok = true;
          for (unsigned a = 0; a < d->nbobjs; ++a) {
            int at = -1;
            for (int j = 0; j < nnodes; ++j)
              if (node_objs[static_cast<std::size_t>(j)] == d->objs[a]) at = j;
            if (at < 0) ok = false;
            pos[a] = at;
          }
          if (ok) {
            f.distances.assign(static_cast<std::size_t>(nnodes) * nnodes, 0);
            for (unsigned a = 0; a < d->nbobjs; ++a)
              for (unsigned b = 0; b < d->nbobjs; ++b)
                f.distances[static_cast<std::size_t>(pos[a]) * nnodes + pos[b]] =
                    static_cast<unsigned>(d->values[a * d->nbobjs + b]);
          }
        }
        hwloc_distances_release(t, d);
      }
    }
  }
  return f;
}

}  // namespace

Topology load_hwloc_machine() {
  HwlocTopology t;
  hwloc_topology_set_flags(t.get(), HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
  if (hwloc_topology_load(t.get()) != 0) {
    int e = errno;
    throw ResourceError(std::string("quanta: hwloc_topology_load failed: ") + std::strerror(e));
  }
  return TopologyBuilder::build(facts_of(t.get()), "hwloc");
}

Topology load_hwloc_synthetic(const std::string& desc) {
  HwlocTopology t;
  if (hwloc_topology_set_synthetic(t.get(), desc.c_str()) != 0) {
    throw ConfigError("quanta: Topology::from_synthetic: hwloc rejects the description \"" + desc +
                      "\"; expected levels such as \"pack:2 numa:2 core:4 pu:2\"");
  }
  if (hwloc_topology_load(t.get()) != 0) {
    int e = errno;
    throw ResourceError("quanta: Topology::from_synthetic(\"" + desc +
                        "\"): hwloc_topology_load failed: " + std::strerror(e));
  }
  return TopologyBuilder::build(facts_of(t.get()), "hwloc synthetic \"" + desc + "\"");
}

}  // namespace quanta::detail
