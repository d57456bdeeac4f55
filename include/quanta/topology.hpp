// quanta — the machine's topology: packages, NUMA nodes, cores, PUs (logical
// CPUs), caches and NUMA distances; the order in which a worker looks for work
// to steal, and memory bound to a NUMA node.
//
// Identifiers used throughout:
//   PU             the OS index of a logical CPU (what sched_setaffinity and
//                  /sys/devices/system/cpu/cpuN use).
//   NUMA node      the OS index of a node (what mbind and
//                  /sys/devices/system/node/nodeN use).
//   core, package  logical indexes 0..count-1 in topology order.
// Topology order lists PUs by package, then NUMA node, then core, then OS
// index: SMT siblings are adjacent and packages are numbered by their lowest
// PU, so two loaders that see the same machine number it the same way.
//
// A Topology is an immutable value: copies are cheap (they share the data) and
// every member may be called from any thread, ULT or kernel thread. None is
// async-signal-safe (they allocate or may throw).
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace quanta {

namespace detail {
struct TopologyData;
struct TopologyBuilder;
}  // namespace detail

class Topology {
 public:
  // A data or unified cache (instruction caches are not recorded).
  struct Cache {
    unsigned level = 0;    // 1 = L1, 2 = L2, ...
    std::vector<int> pus;  // the PUs sharing it, ascending OS indexes
    bool operator==(const Cache&) const = default;
  };

  // closeness() ranks, nearest first.
  static constexpr int kSameCore = 0;     // SMT siblings (or the same PU)
  static constexpr int kSharedCache = 1;  // share an L2 or a higher-level cache
  static constexpr int kSameNode = 2;     // same NUMA node
  static constexpr int kSamePackage = 3;  // same package, other node
  static constexpr int kRemote = 4;       // another package and node

  unsigned pu_count() const noexcept;
  unsigned core_count() const noexcept;
  unsigned package_count() const noexcept;
  unsigned node_count() const noexcept;

  // PU OS indexes in topology order.
  std::vector<int> pus() const;
  // NUMA node OS indexes, ascending. A node whose CPUs are all outside the
  // topology (memory-only, or not in the process's affinity) is still listed.
  std::vector<unsigned> nodes() const;
  // Data and unified caches, ordered by level, then by their lowest PU.
  const std::vector<Cache>& caches() const noexcept;

  // Where a PU sits. Throw ConfigError naming the PU and the PUs that exist
  // when pu is not in this topology.
  unsigned node_of_pu(int pu) const;
  unsigned core_of_pu(int pu) const;
  unsigned package_of_pu(int pu) const;

  // The PUs of a NUMA node, ascending OS indexes (empty for a node without
  // CPUs). Throws ConfigError naming the node and the nodes that exist.
  std::vector<int> cpu_mask_for_node(unsigned node) const;

  // NUMA distance in ACPI SLIT units: 10 for a node to itself, larger is
  // farther. Where the machine reports no distances: 10 local, 20 remote.
  // Throws ConfigError for a node that does not exist.
  unsigned distance(unsigned node_a, unsigned node_b) const;

  // How close two PUs are: kSameCore .. kRemote (the first that holds).
  // Throws ConfigError for a PU not in this topology.
  int closeness(int pu_a, int pu_b) const;

  // candidates ordered for stealing by a worker on `pu`: by closeness, then
  // NUMA distance, then PU OS index; `pu` itself is left out, duplicates are
  // kept. Throws ConfigError for a PU (pu or a candidate) not in this topology.
  std::vector<int> victims_for(int pu, const std::vector<int>& candidates) const;

  // The NUMA node of the CPU the caller is running on (sched_getcpu); the
  // first node when that fails or the CPU is not in this topology. A kernel
  // thread may be moved right after the call: the answer is a hint.
  unsigned current_node() const noexcept;

  // `bytes` (rounded up to whole pages) of zeroed memory bound to `node`
  // (anonymous mmap + mbind(MPOL_BIND)); pages come from that node when first
  // touched. Release with free_on_node(p, bytes). Throws ConfigError for a
  // node that does not exist or bytes == 0, ResourceError naming the node and
  // the size when the mapping or the binding is refused. When the system
  // offers no binding at all (mbind fails with ENOSYS or EPERM: a kernel
  // without NUMA, qemu-user, a seccomp filter) the memory is returned
  // unbound only if this topology has a single node, where it cannot be
  // anywhere else; with several nodes that is a ResourceError.
  void* allocate_on_node(unsigned node, std::size_t bytes) const;
  // Releases memory from allocate_on_node; `bytes` as passed there. p may be
  // null (nothing happens).
  void free_on_node(void* p, std::size_t bytes) const noexcept;

  // One line, e.g. "1 package, 1 NUMA node, 2 cores, 2 PUs".
  std::string describe() const;

  // Reads a Linux sysfs tree: <root>/devices/system/cpu/{online, cpuN/topology,
  // cpuN/cache} and <root>/devices/system/node/nodeN/{cpulist,distance}. All
  // online CPUs are included (no affinity restriction). Without node
  // directories the machine is one node 0 holding every CPU. Throws
  // ResourceError naming the file when a required file is missing or does
  // not parse.
  static Topology from_sysfs(const std::string& root = "/sys");

  // An hwloc synthetic topology, e.g. "pack:2 numa:2 core:4 pu:2" (PU and
  // node OS indexes are numbered in order). Only in builds with hwloc
  // (has_hwloc()); otherwise throws UsageError. Throws ConfigError naming the
  // description when hwloc rejects it.
  static Topology from_synthetic(const std::string& desc);

  // Whether this build uses hwloc (native builds) or only the sysfs reader.
  static bool has_hwloc() noexcept;

  // Equal when every PU, node, cache and distance is the same.
  bool operator==(const Topology& other) const;

 private:
  friend struct detail::TopologyBuilder;
  explicit Topology(std::shared_ptr<const detail::TopologyData> d) : d_(std::move(d)) {}
  std::shared_ptr<const detail::TopologyData> d_;
};

// The machine's topology, loaded on first use (through hwloc when the build
// has it, from /sys otherwise) and restricted to the CPUs the process may run
// on at that moment (sched_getaffinity). Thread-safe; throws ResourceError
// when the machine cannot be read (and tries again on the next call).
const Topology& topology();

}  // namespace quanta
