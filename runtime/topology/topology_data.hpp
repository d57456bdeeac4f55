// quanta — the topology data model behind quanta::Topology, and what the
// loaders (sysfs, hwloc) hand to it.
//
// A loader reports facts with its own keys (package and core identifiers as
// the OS or hwloc names them); TopologyBuilder::build turns them into the
// canonical, numbered model. Numbering depends only on the facts, so two
// loaders that read the same machine produce equal Topology values:
//   - packages: ordered by their lowest PU OS index;
//   - PUs (topology order): by package, then NUMA node OS index, then the
//     lowest PU of their core, then their own OS index;
//   - cores: numbered in the order they first appear in topology order;
//   - caches: deduplicated, restricted to known PUs, ordered by level then
//     lowest PU;
//   - nodes: ascending OS indexes.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "quanta/topology.hpp"

namespace quanta::detail {

// What a loader read from the machine.
struct TopologyFacts {
  struct Pu {
    int os = 0;        // OS index
    long package = 0;  // any key, equal for PUs of one package
    long core = 0;     // any key, equal for PUs of one core within a package
  };
  struct Node {
    unsigned os = 0;
    std::vector<int> pus;  // may list PUs that are not in `pus` (ignored)
  };
  std::vector<Pu> pus;
  // Empty: one node 0 holding every PU. A PU in no node goes to the first node.
  std::vector<Node> nodes;
  // Data and unified caches; duplicates and unknown PUs are dropped.
  std::vector<Topology::Cache> caches;
  // nodes.size()^2 values, row-major in `nodes` order; anything else means
  // "unknown": 10 on the diagonal, 20 elsewhere.
  std::vector<unsigned> distances;
};

// The numbered model (immutable once built; shared by Topology copies).
struct TopologyData {
  struct Pu {
    int os = 0;
    unsigned core = 0;
    unsigned package = 0;
    unsigned node = 0;                    // OS index
    std::vector<unsigned> shared_caches;  // indexes into caches, level >= 2
    bool operator==(const Pu&) const = default;
  };
  std::vector<Pu> pus;                     // topology order
  std::vector<int> slot;                   // PU OS index -> position in pus, -1 if absent
  std::vector<unsigned> nodes;             // ascending OS indexes
  std::vector<std::vector<int>> node_pus;  // parallel to nodes, ascending
  std::vector<unsigned> distances;         // nodes.size()^2, row-major
  std::vector<Topology::Cache> caches;
  unsigned cores = 0;
  unsigned packages = 0;
};

struct TopologyBuilder {
  // Validates the facts (unique, non-negative PU indexes; at least one PU) and
  // numbers them. Throws ResourceError naming `source` when they are unusable.
  static Topology build(TopologyFacts facts, std::string_view source);
  // The facts a Topology was built from, in canonical form (build(facts_of(t))
  // == t).
  static TopologyFacts facts_of(const Topology& t);
  static const TopologyData& data(const Topology& t) { return *t.d_; }
};

// t without the PUs outside `allowed` (OS indexes); nodes are all kept.
// Throws ResourceError when no PU of t is allowed.
Topology restrict_topology(const Topology& t, const std::vector<int>& allowed);

// The CPUs the calling thread may run on (sched_getaffinity), ascending.
// Empty when the call fails.
std::vector<int> affinity_pus();

// Linux cpulist syntax ("0-3,8,10-11", whitespace and a trailing newline
// allowed, empty = no CPUs) to ascending, unique indexes. Returns false on a
// syntax error.
bool parse_cpulist(std::string_view text, std::vector<int>& out);
// Ascending indexes back to cpulist syntax ("0-3,8").
std::string format_cpulist(const std::vector<int>& pus);

// Sets the memory policy of the page-aligned range [p, p + len) to
// MPOL_BIND on `node` (mbind): pages come from that node when first touched.
// Returns 0, or the errno of the refusal (errno itself is left unchanged).
int bind_to_node(void* p, std::size_t len, unsigned node) noexcept;
// Whether an errno of bind_to_node means the system offers no binding at
// all (a kernel without NUMA, qemu-user, a seccomp filter): ENOSYS, EPERM.
bool no_memory_binding(int e) noexcept;

// The sysfs reader behind Topology::from_sysfs.
Topology load_sysfs(const std::string& root);

}  // namespace quanta::detail
