// Topology::from_sysfs on fake sysfs trees written by the tests: counts, node
// masks, closeness, steal-victim order, distances, describe, and the files it
// falls back on or rejects. Runs on every build (no hwloc involved).
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <quanta/error.hpp>
#include <quanta/topology.hpp>

#include "topology/topology_data.hpp"
#include "unit/topology_fake_sysfs.hpp"

namespace {

using quanta::Topology;
using quanta::test::FakeSysfs;
using quanta::test::L3Scope;

// The 2-package, 4-node fake machine read once per L3 layout (writing the
// tree is the slow part).
const Topology& two_packages_four_nodes(L3Scope l3) {
  static std::optional<Topology> read[3];
  std::optional<Topology>& t = read[static_cast<int>(l3)];
  if (!t) {
    FakeSysfs s;
    quanta::test::two_packages_four_nodes(s, l3);
    t = Topology::from_sysfs(s.root());
  }
  return *t;
}

template <class F>
std::string config_error_of(F&& f) {
  try {
    f();
  } catch (const quanta::ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return "";
}

TEST(TopologySysfs, CountsOfATwoPackageFourNodeMachine) {
  const Topology& t = two_packages_four_nodes(L3Scope::Package);
  EXPECT_EQ(t.pu_count(), 16u);
  EXPECT_EQ(t.core_count(), 8u);
  EXPECT_EQ(t.package_count(), 2u);
  EXPECT_EQ(t.node_count(), 4u);
  EXPECT_EQ(t.nodes(), (std::vector<unsigned>{0, 1, 2, 3}));
  EXPECT_EQ(t.describe(), "2 packages, 4 NUMA nodes, 8 cores, 16 PUs");
}

TEST(TopologySysfs, PusComeInTopologyOrderWithSiblingsAdjacent) {
  const Topology& t = two_packages_four_nodes(L3Scope::Package);
  EXPECT_EQ(t.pus(), (std::vector<int>{0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15}));
  for (int c = 0; c < 8; ++c) {
    EXPECT_EQ(t.core_of_pu(c), static_cast<unsigned>(c));
    EXPECT_EQ(t.core_of_pu(c + 8), static_cast<unsigned>(c));
    EXPECT_EQ(t.package_of_pu(c + 8), static_cast<unsigned>(c / 4));
    EXPECT_EQ(t.node_of_pu(c + 8), static_cast<unsigned>(c / 2));
  }
}

TEST(TopologySysfs, NodeMasksAndDistances) {
  const Topology& t = two_packages_four_nodes(L3Scope::Package);
  EXPECT_EQ(t.cpu_mask_for_node(0), (std::vector<int>{0, 1, 8, 9}));
  EXPECT_EQ(t.cpu_mask_for_node(1), (std::vector<int>{2, 3, 10, 11}));
  EXPECT_EQ(t.cpu_mask_for_node(3), (std::vector<int>{6, 7, 14, 15}));
  EXPECT_EQ(t.distance(0, 0), 10u);
  EXPECT_EQ(t.distance(0, 1), 20u);
  EXPECT_EQ(t.distance(1, 0), 20u);
  EXPECT_EQ(t.distance(0, 2), 30u);
  EXPECT_EQ(t.distance(3, 2), 20u);
  EXPECT_EQ(t.distance(3, 0), 30u);
}

TEST(TopologySysfs, CachesKeepDataAndUnifiedWithTheirSharers) {
  const Topology& t = two_packages_four_nodes(L3Scope::Package);
  unsigned per_level[4] = {};
  for (const auto& c : t.caches()) {
    ASSERT_GE(c.level, 1u);
    ASSERT_LE(c.level, 3u);
    ++per_level[c.level];
  }
  EXPECT_EQ(per_level[1], 8u);  // L1d only: instruction caches are dropped
  EXPECT_EQ(per_level[2], 8u);
  EXPECT_EQ(per_level[3], 2u);
  EXPECT_EQ(t.caches().back(), (Topology::Cache{3, {4, 5, 6, 7, 12, 13, 14, 15}}));
}

TEST(TopologySysfs, ClosenessWithL3PerPackage) {
  const Topology& t = two_packages_four_nodes(L3Scope::Package);
  EXPECT_EQ(t.closeness(0, 0), Topology::kSameCore);
  EXPECT_EQ(t.closeness(0, 8), Topology::kSameCore);
  EXPECT_EQ(t.closeness(0, 1), Topology::kSharedCache);   // L3, same node
  EXPECT_EQ(t.closeness(0, 11), Topology::kSharedCache);  // L3, other node
  EXPECT_EQ(t.closeness(0, 4), Topology::kRemote);
  EXPECT_EQ(t.closeness(12, 3), Topology::kRemote);
}

TEST(TopologySysfs, ClosenessWithL3PerNode) {
  const Topology& t = two_packages_four_nodes(L3Scope::Node);
  EXPECT_EQ(t.closeness(1, 9), Topology::kSameCore);
  EXPECT_EQ(t.closeness(0, 9), Topology::kSharedCache);
  EXPECT_EQ(t.closeness(0, 2), Topology::kSamePackage);
  EXPECT_EQ(t.closeness(0, 15), Topology::kRemote);
}

TEST(TopologySysfs, ClosenessWithoutSharedCaches) {
  const Topology& t = two_packages_four_nodes(L3Scope::None);
  EXPECT_EQ(t.closeness(0, 8), Topology::kSameCore);
  EXPECT_EQ(t.closeness(0, 1), Topology::kSameNode);  // private L2s only
  EXPECT_EQ(t.closeness(0, 10), Topology::kSamePackage);
  EXPECT_EQ(t.closeness(0, 5), Topology::kRemote);
}

TEST(TopologySysfs, VictimsByClosenessThenDistanceThenIndex) {
  const Topology& t = two_packages_four_nodes(L3Scope::Package);
  // Sibling; same L3 in the same node (10) before the other node (20); the
  // other package (30) last.
  EXPECT_EQ(t.victims_for(0, t.pus()),
            (std::vector<int>{8, 1, 9, 2, 3, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15}));
  EXPECT_EQ(t.victims_for(13, t.pus()),
            (std::vector<int>{5, 4, 12, 6, 7, 14, 15, 0, 1, 2, 3, 8, 9, 10, 11}));
  // Only the given candidates, without the caller, duplicates kept.
  EXPECT_EQ(t.victims_for(2, {7, 2, 3, 0, 3}), (std::vector<int>{3, 3, 0, 7}));
  EXPECT_TRUE(t.victims_for(2, {2}).empty());
}

TEST(TopologySysfs, VictimsWithoutSharedCachesFollowNodeThenPackage) {
  const Topology& t = two_packages_four_nodes(L3Scope::None);
  EXPECT_EQ(t.victims_for(10, t.pus()),
            (std::vector<int>{2, 3, 11, 0, 1, 8, 9, 4, 5, 6, 7, 12, 13, 14, 15}));
}

TEST(TopologySysfs, UnknownNodesAndPusAreConfigErrors) {
  const Topology& t = two_packages_four_nodes(L3Scope::Package);
  std::string msg = config_error_of([&] { t.cpu_mask_for_node(4); });
  EXPECT_NE(msg.find("node 4"), std::string::npos) << msg;
  EXPECT_NE(msg.find("4 nodes: 0-3"), std::string::npos) << msg;
  msg = config_error_of([&] { t.distance(0, 7); });
  EXPECT_NE(msg.find("node 7"), std::string::npos) << msg;
  msg = config_error_of([&] { t.node_of_pu(16); });
  EXPECT_NE(msg.find("PU 16"), std::string::npos) << msg;
  EXPECT_NE(msg.find("0-15"), std::string::npos) << msg;
  msg = config_error_of([&] { t.victims_for(0, {1, 99}); });
  EXPECT_NE(msg.find("PU 99"), std::string::npos) << msg;
  msg = config_error_of([&] { t.closeness(-1, 0); });
  EXPECT_NE(msg.find("PU -1"), std::string::npos) << msg;
}

// No node directory (a kernel without NUMA): one node 0 with every CPU.
// Cores come from thread_siblings_list when core_cpus_list is missing.
TEST(TopologySysfs, WithoutNodeDirectoryOneNodeHoldsEveryCpu) {
  FakeSysfs s;
  quanta::test::one_package_no_nodes(s);
  // Older kernels: no core_cpus_list.
  for (int pu = 0; pu < 4; ++pu)
    std::filesystem::remove(s.root() + "/devices/system/cpu/cpu" + std::to_string(pu) +
                            "/topology/core_cpus_list");
  Topology t = Topology::from_sysfs(s.root());
  EXPECT_EQ(t.node_count(), 1u);
  EXPECT_EQ(t.nodes(), (std::vector<unsigned>{0}));
  EXPECT_EQ(t.cpu_mask_for_node(0), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(t.distance(0, 0), 10u);
  EXPECT_EQ(t.core_count(), 2u);
  EXPECT_EQ(t.package_count(), 1u);
  EXPECT_EQ(t.describe(), "1 package, 1 NUMA node, 2 cores, 4 PUs");
  EXPECT_EQ(t.closeness(0, 1), Topology::kSameCore);
  EXPECT_EQ(t.closeness(0, 3), Topology::kSharedCache);
  EXPECT_EQ(t.victims_for(3, {0, 1, 2}), (std::vector<int>{2, 0, 1}));
  EXPECT_EQ(t.current_node(), 0u);
  std::string msg = config_error_of([&] { t.cpu_mask_for_node(1); });
  EXPECT_NE(msg.find("node 1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("1 node: 0"), std::string::npos) << msg;
}

// Oldest kernels: only core_id (unique within a package) and
// physical_package_id; equal core_ids in two packages are two cores.
TEST(TopologySysfs, CoreIdIsScopedToItsPackage) {
  FakeSysfs s;
  s.write("cpu/online", "0-3");
  for (int pu = 0; pu < 4; ++pu) {
    s.cpu_file(pu, "topology/physical_package_id", std::to_string(pu / 2));
    s.cpu_file(pu, "topology/core_id", std::to_string(pu % 2));
  }
  Topology t = Topology::from_sysfs(s.root());
  EXPECT_EQ(t.core_count(), 4u);
  EXPECT_EQ(t.package_count(), 2u);
  EXPECT_EQ(t.closeness(0, 2), Topology::kSameNode);  // one node, two packages
  EXPECT_EQ(t.describe(), "2 packages, 1 NUMA node, 4 cores, 4 PUs");
}

// Offline CPUs are left out everywhere; node numbers may have gaps.
TEST(TopologySysfs, OfflineCpusAndSparseNodes) {
  FakeSysfs s;
  quanta::test::offline_cpu_sparse_nodes(s);
  for (int pu = 0; pu < 5; ++pu)
    s.cpu_file(pu, "topology/physical_package_id", "-1");  // some ARM firmware
  s.write("node/node5/cpulist", "");                       // not online: ignored
  s.write("node/node2/cpulist", "2-4");                    // offline 3 is dropped
  Topology t = Topology::from_sysfs(s.root());
  EXPECT_EQ(t.pus(), (std::vector<int>{0, 1, 2, 4}));
  EXPECT_EQ(t.package_count(), 1u);
  EXPECT_EQ(t.nodes(), (std::vector<unsigned>{0, 2}));
  EXPECT_EQ(t.cpu_mask_for_node(2), (std::vector<int>{2, 4}));
  EXPECT_EQ(t.node_of_pu(4), 2u);
  EXPECT_EQ(t.distance(0, 2), 21u);
  ASSERT_EQ(t.caches().size(), 1u);
  EXPECT_EQ(t.caches()[0].pus, (std::vector<int>{0, 1, 2, 4}));
  EXPECT_EQ(t.closeness(1, 2), Topology::kSharedCache);
  std::string msg = config_error_of([&] { t.cpu_mask_for_node(1); });
  EXPECT_NE(msg.find("node 1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2 nodes: 0,2"), std::string::npos) << msg;
  msg = config_error_of([&] { t.core_of_pu(3); });
  EXPECT_NE(msg.find("PU 3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("0-2,4"), std::string::npos) << msg;
}

// Distance rows that do not cover every node: 10 local, 20 remote.
TEST(TopologySysfs, IncompleteDistancesFallBackToTenAndTwenty) {
  FakeSysfs s;
  s.write("cpu/online", "0-1");
  s.write("node/node0/cpulist", "0");
  s.write("node/node0/distance", "10");
  s.write("node/node1/cpulist", "1");
  Topology t = Topology::from_sysfs(s.root());
  EXPECT_EQ(t.core_count(), 2u);  // no topology directory: one core per CPU
  EXPECT_EQ(t.distance(0, 0), 10u);
  EXPECT_EQ(t.distance(0, 1), 20u);
  EXPECT_EQ(t.distance(1, 1), 10u);
  EXPECT_EQ(t.victims_for(0, {1}), (std::vector<int>{1}));
  EXPECT_EQ(t.closeness(0, 1), Topology::kSamePackage);
}

TEST(TopologySysfs, MissingOrMalformedFilesAreResourceErrorsNamingThem) {
  FakeSysfs s;
  try {
    Topology::from_sysfs(s.root());
    FAIL() << "expected a ResourceError";
  } catch (const quanta::ResourceError& e) {
    EXPECT_NE(std::string(e.what()).find(s.root() + "/devices/system/cpu/online"),
              std::string::npos)
        << e.what();
  }
  s.write("cpu/online", "0-x");
  try {
    Topology::from_sysfs(s.root());
    FAIL() << "expected a ResourceError";
  } catch (const quanta::ResourceError& e) {
    EXPECT_NE(std::string(e.what()).find("0-x"), std::string::npos) << e.what();
  }
  s.write("cpu/online", "0");
  s.write("node/node0/distance", "10");  // node directory without cpulist
  try {
    Topology::from_sysfs(s.root());
    FAIL() << "expected a ResourceError";
  } catch (const quanta::ResourceError& e) {
    EXPECT_NE(std::string(e.what()).find("node0/cpulist"), std::string::npos) << e.what();
  }
}

TEST(TopologySysfs, CpulistSyntax) {
  std::vector<int> v;
  ASSERT_TRUE(quanta::detail::parse_cpulist("0-3,8,10-11\n", v));
  EXPECT_EQ(v, (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  ASSERT_TRUE(quanta::detail::parse_cpulist("\n", v));
  EXPECT_TRUE(v.empty());
  EXPECT_FALSE(quanta::detail::parse_cpulist("3-1", v));
  EXPECT_FALSE(quanta::detail::parse_cpulist("1,,2", v));
  EXPECT_FALSE(quanta::detail::parse_cpulist("a", v));
  EXPECT_EQ(quanta::detail::format_cpulist({0, 1, 2, 3, 8, 10, 11}), "0-3,8,10-11");
  EXPECT_EQ(quanta::detail::format_cpulist({}), "none");
}

}  // namespace
