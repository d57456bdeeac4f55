// Topology::from_synthetic: hwloc synthetic machines (counts, node masks,
// steal-victim order) in builds with hwloc; a UsageError saying so in builds
// without it (cross builds).
#include <gtest/gtest.h>

#include <numeric>
#include <string>
#include <vector>

#include <quanta/error.hpp>
#include <quanta/topology.hpp>

namespace {

using quanta::Topology;

#ifdef QUANTA_HAVE_HWLOC

std::vector<int> range(int from, int to) {  // [from, to)
  std::vector<int> v(static_cast<std::size_t>(to - from));
  std::iota(v.begin(), v.end(), from);
  return v;
}

std::vector<int> concat(std::initializer_list<std::vector<int>> parts) {
  std::vector<int> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(TopologySynthetic, TwoPackagesTwoNodesEachFourCoresTwoPus) {
  Topology t = Topology::from_synthetic("pack:2 numa:2 core:4 pu:2");
  EXPECT_EQ(t.package_count(), 2u);
  EXPECT_EQ(t.node_count(), 4u);
  EXPECT_EQ(t.core_count(), 16u);
  EXPECT_EQ(t.pu_count(), 32u);
  EXPECT_EQ(t.describe(), "2 packages, 4 NUMA nodes, 16 cores, 32 PUs");
  EXPECT_EQ(t.pus(), range(0, 32));
  for (unsigned n = 0; n < 4; ++n)
    EXPECT_EQ(t.cpu_mask_for_node(n), range(8 * static_cast<int>(n), 8 * static_cast<int>(n) + 8));
  EXPECT_EQ(t.node_of_pu(13), 1u);
  EXPECT_EQ(t.core_of_pu(13), 6u);
  EXPECT_EQ(t.package_of_pu(13), 0u);
  EXPECT_EQ(t.package_of_pu(16), 1u);
  // No distance matrix in a synthetic topology: 10 local, 20 remote.
  EXPECT_EQ(t.distance(2, 2), 10u);
  EXPECT_EQ(t.distance(0, 3), 20u);
  EXPECT_TRUE(t.caches().empty());

  EXPECT_EQ(t.closeness(0, 1), Topology::kSameCore);
  EXPECT_EQ(t.closeness(0, 2), Topology::kSameNode);
  EXPECT_EQ(t.closeness(0, 8), Topology::kSamePackage);
  EXPECT_EQ(t.closeness(0, 16), Topology::kRemote);
  // SMT sibling, same node, same package, then the other package.
  EXPECT_EQ(t.victims_for(0, t.pus()), concat({{1}, range(2, 8), range(8, 16), range(16, 32)}));
  EXPECT_EQ(t.victims_for(21, t.pus()),
            concat({{20}, range(16, 20), range(22, 24), range(24, 32), range(0, 16)}));
}

TEST(TopologySynthetic, SharedCachesComeBeforeTheRestOfTheNode) {
  // Per package: two L3s, each over one node and two L2s of two cores.
  Topology t = Topology::from_synthetic("pack:2 l3:2 numa:1 l2:2 core:2 pu:2");
  EXPECT_EQ(t.describe(), "2 packages, 4 NUMA nodes, 16 cores, 32 PUs");
  unsigned l2 = 0, l3 = 0;
  for (const auto& c : t.caches()) {
    if (c.level == 2) {
      ++l2;
      EXPECT_EQ(c.pus.size(), 4u);
    } else if (c.level == 3) {
      ++l3;
      EXPECT_EQ(c.pus.size(), 8u);
    }
  }
  EXPECT_EQ(l2, 8u);
  EXPECT_EQ(l3, 4u);
  EXPECT_EQ(t.closeness(4, 5), Topology::kSameCore);
  EXPECT_EQ(t.closeness(4, 6), Topology::kSharedCache);  // L2
  EXPECT_EQ(t.closeness(4, 0), Topology::kSharedCache);  // L3
  EXPECT_EQ(t.closeness(4, 8), Topology::kSamePackage);
  EXPECT_EQ(t.closeness(4, 31), Topology::kRemote);
  EXPECT_EQ(t.victims_for(4, t.pus()),
            concat({{5}, range(0, 4), range(6, 8), range(8, 16), range(16, 32)}));
  // Among a subset: the sibling, the cache sharers, the package, the rest.
  EXPECT_EQ(t.victims_for(9, {30, 17, 8, 15, 9, 1, 11}), (std::vector<int>{8, 11, 15, 1, 17, 30}));
}

TEST(TopologySynthetic, InterleavedOsNumberingKeepsSiblingsAdjacent) {
  // x86-style numbering: PU n and n+4 are SMT siblings.
  Topology t = Topology::from_synthetic("pack:1 core:4 pu:2(indexes=0,4,1,5,2,6,3,7)");
  EXPECT_EQ(t.pus(), (std::vector<int>{0, 4, 1, 5, 2, 6, 3, 7}));
  EXPECT_EQ(t.describe(), "1 package, 1 NUMA node, 4 cores, 8 PUs");
  EXPECT_EQ(t.cpu_mask_for_node(0), range(0, 8));
  EXPECT_EQ(t.core_of_pu(5), 1u);
  EXPECT_EQ(t.victims_for(5, t.pus()), (std::vector<int>{1, 0, 2, 3, 4, 6, 7}));
}

TEST(TopologySynthetic, OneNodeOverTwoPackagesRanksTheNodeFirst) {
  Topology t = Topology::from_synthetic("pack:2 core:2 pu:1");
  EXPECT_EQ(t.describe(), "2 packages, 1 NUMA node, 4 cores, 4 PUs");
  EXPECT_EQ(t.closeness(0, 2), Topology::kSameNode);
  EXPECT_EQ(t.victims_for(3, {0, 1, 2}), (std::vector<int>{0, 1, 2}));
}

TEST(TopologySynthetic, BadNodeIsAConfigErrorNamingIt) {
  Topology t = Topology::from_synthetic("pack:2 numa:2 core:4 pu:2");
  try {
    t.cpu_mask_for_node(4);
    FAIL() << "expected a ConfigError";
  } catch (const quanta::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("node 4 does not exist"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("4 nodes: 0-3"), std::string::npos) << e.what();
  }
}

TEST(TopologySynthetic, RejectedDescriptionIsAConfigErrorNamingIt) {
  try {
    Topology::from_synthetic("bogus:3");
    FAIL() << "expected a ConfigError";
  } catch (const quanta::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("\"bogus:3\""), std::string::npos) << e.what();
  }
}

#else  // no hwloc: cross builds

TEST(TopologySynthetic, NeedsHwloc) {
  EXPECT_FALSE(Topology::has_hwloc());
  try {
    Topology::from_synthetic("pack:2 numa:2 core:4 pu:2");
    FAIL() << "expected a UsageError";
  } catch (const quanta::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("hwloc"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("pack:2 numa:2 core:4 pu:2"), std::string::npos)
        << e.what();
  }
}

#endif

}  // namespace
