// The machine's topology(): consistent counts, restricted to the process's
// CPU affinity, current_node(), errors that name the bad node, and memory
// bound to a node.
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include <quanta/error.hpp>
#include <quanta/topology.hpp>

#include "topology/topology_data.hpp"

namespace {

using quanta::Topology;

TEST(Topology, CountsAreConsistent) {
  const Topology& t = quanta::topology();
  ASSERT_GE(t.pu_count(), 1u);
  EXPECT_GE(t.core_count(), 1u);
  EXPECT_LE(t.core_count(), t.pu_count());
  EXPECT_GE(t.package_count(), 1u);
  EXPECT_LE(t.package_count(), t.core_count());
  EXPECT_GE(t.node_count(), 1u);
  EXPECT_EQ(t.pus().size(), t.pu_count());
  EXPECT_EQ(t.nodes().size(), t.node_count());

  std::set<unsigned> cores, packages;
  std::size_t in_nodes = 0;
  for (int pu : t.pus()) {
    cores.insert(t.core_of_pu(pu));
    packages.insert(t.package_of_pu(pu));
  }
  for (unsigned n : t.nodes()) {
    for (int pu : t.cpu_mask_for_node(n)) EXPECT_EQ(t.node_of_pu(pu), n);
    in_nodes += t.cpu_mask_for_node(n).size();
    EXPECT_EQ(t.distance(n, n), 10u);
  }
  EXPECT_EQ(cores.size(), t.core_count());
  EXPECT_EQ(packages.size(), t.package_count());
  EXPECT_EQ(in_nodes, t.pu_count());   // every PU in exactly one node
  EXPECT_EQ(&t, &quanta::topology());  // loaded once
}

TEST(Topology, HoldsExactlyTheCpusTheProcessMayRunOn) {
  std::vector<int> allowed = quanta::detail::affinity_pus();
  ASSERT_FALSE(allowed.empty());
  std::vector<int> pus = quanta::topology().pus();
  std::sort(pus.begin(), pus.end());
  EXPECT_EQ(pus, allowed);
}

TEST(Topology, DescribeIsOneLineOfCounts) {
  const Topology& t = quanta::topology();
  auto count = [](unsigned n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  EXPECT_EQ(t.describe(), count(t.package_count(), "package", "packages") + ", " +
                              count(t.node_count(), "NUMA node", "NUMA nodes") + ", " +
                              count(t.core_count(), "core", "cores") + ", " +
                              count(t.pu_count(), "PU", "PUs"));
}

TEST(Topology, ClosenessIsSymmetricAndZeroForItself) {
  const Topology& t = quanta::topology();
  std::vector<int> pus = t.pus();
  for (int a : pus) {
    EXPECT_EQ(t.closeness(a, a), Topology::kSameCore);
    for (int b : pus) EXPECT_EQ(t.closeness(a, b), t.closeness(b, a));
  }
  std::vector<int> v = t.victims_for(pus.front(), pus);
  EXPECT_EQ(v.size(), pus.size() - 1);
  for (std::size_t i = 1; i < v.size(); ++i)
    EXPECT_LE(t.closeness(pus.front(), v[i - 1]), t.closeness(pus.front(), v[i]));
}

TEST(Topology, CurrentNodeIsTheNodeOfTheCallingCpu) {
  const Topology& t = quanta::topology();
  std::vector<unsigned> nodes = t.nodes();
  // Pinned to each allowed CPU in turn, the answer is that CPU's node.
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof saved, &saved), 0);
  for (int pu : t.pus()) {
    if (pu >= CPU_SETSIZE) continue;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(pu, &one);
    ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0) << "PU " << pu;
    unsigned n = t.current_node();
    EXPECT_NE(std::find(nodes.begin(), nodes.end(), n), nodes.end());
    EXPECT_EQ(n, t.node_of_pu(pu)) << "PU " << pu;
  }
  ASSERT_EQ(sched_setaffinity(0, sizeof saved, &saved), 0);
}

TEST(Topology, NodeThatDoesNotExistIsAConfigErrorNamingIt) {
  const Topology& t = quanta::topology();
  const unsigned bad = t.nodes().back() + 1;
  auto expect_names = [&](auto&& call) {
    try {
      call();
      ADD_FAILURE() << "expected a ConfigError for node " << bad;
    } catch (const quanta::ConfigError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("node " + std::to_string(bad)), std::string::npos) << msg;
      EXPECT_NE(
          msg.find(std::to_string(t.node_count()) + (t.node_count() == 1 ? " node" : " nodes")),
          std::string::npos)
          << msg;
    }
  };
  expect_names([&] { t.cpu_mask_for_node(bad); });
  expect_names([&] { t.distance(0, bad); });
  expect_names([&] { t.allocate_on_node(bad, 4096); });
  expect_names([&] { t.allocate_on_node(99 + bad, 4096); });
}

TEST(Topology, AllocateOnNodeGivesWritableMemory) {
  const Topology& t = quanta::topology();
  const unsigned node = t.nodes().front();
  const std::size_t bytes = 3 * 4096 + 100;
  void* p = nullptr;
  try {
    p = t.allocate_on_node(node, bytes);
  } catch (const quanta::ResourceError& e) {
    // The documented refusal: several nodes and no mbind (qemu-user, seccomp).
    const std::string msg = e.what();
    ASSERT_GT(t.node_count(), 1u) << msg;
    EXPECT_NE(msg.find("no NUMA memory binding"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::to_string(bytes) + " bytes on NUMA node " + std::to_string(node)),
              std::string::npos)
        << msg;
    return;
  }
  ASSERT_NE(p, nullptr);
  auto* c = static_cast<unsigned char*>(p);
  for (std::size_t i = 0; i < bytes; ++i) ASSERT_EQ(c[i], 0u);  // zeroed
  std::memset(p, 0xab, bytes);
  EXPECT_EQ(c[0], 0xab);
  EXPECT_EQ(c[bytes - 1], 0xab);
  t.free_on_node(p, bytes);
  t.free_on_node(nullptr, bytes);  // no-op
}

TEST(Topology, AllocateZeroBytesIsAConfigError) {
  const Topology& t = quanta::topology();
  EXPECT_THROW(t.allocate_on_node(t.nodes().front(), 0), quanta::ConfigError);
}

TEST(Topology, AllocateOnEveryNodeWithCpus) {
  const Topology& t = quanta::topology();
  for (unsigned n : t.nodes()) {
    if (t.cpu_mask_for_node(n).empty()) continue;  // may have no memory either
    void* p = nullptr;
    try {
      p = t.allocate_on_node(n, 1 << 16);
    } catch (const quanta::ResourceError& e) {
      EXPECT_GT(t.node_count(), 1u) << e.what();  // only without mbind, see above
      continue;
    }
    static_cast<char*>(p)[(1 << 16) - 1] = 1;
    t.free_on_node(p, 1 << 16);
  }
}

TEST(Topology, HasHwlocMatchesTheBuild) {
#ifdef QUANTA_HAVE_HWLOC
  EXPECT_TRUE(Topology::has_hwloc());
#else
  EXPECT_FALSE(Topology::has_hwloc());
#endif
}

// Restricting a topology keeps every node, renumbers cores and packages.
TEST(Topology, RestrictionKeepsNodesAndRenumbers) {
  const Topology& t = quanta::topology();
  const int first = t.pus().front();
  Topology one = quanta::detail::restrict_topology(t, {first});
  EXPECT_EQ(one.pus(), (std::vector<int>{first}));
  EXPECT_EQ(one.core_count(), 1u);
  EXPECT_EQ(one.package_count(), 1u);
  EXPECT_EQ(one.node_count(), t.node_count());
  EXPECT_EQ(one.core_of_pu(first), 0u);
  EXPECT_EQ(one.describe(), "1 package, " + std::to_string(t.node_count()) +
                                (t.node_count() == 1 ? " NUMA node" : " NUMA nodes") +
                                ", 1 core, 1 PU");
  EXPECT_THROW(quanta::detail::restrict_topology(t, {}), quanta::ResourceError);
  EXPECT_EQ(quanta::detail::restrict_topology(t, t.pus()), t);
}

}  // namespace
