// The sysfs reader and hwloc build the same Topology: with hwloc (native
// builds) both loaders read this machine and fake machines (hwloc pointed at a
// fake tree through HWLOC_FSROOT) and are compared field by field;
// everywhere, topology() equals from_sysfs("/sys") restricted to the
// process's affinity.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <optional>
#include <string>
#include <vector>

#include <quanta/topology.hpp>

#include "env_var.hpp"
#include "topology/topology_data.hpp"
#include "unit/topology_fake_sysfs.hpp"
#ifdef QUANTA_HAVE_HWLOC
#include "topology/hwloc_loader.hpp"
#endif

namespace {

using quanta::Topology;

std::string cache_list(const Topology& t) {
  std::string s;
  for (const auto& c : t.caches())
    s.append("L").append(std::to_string(c.level)).append("{")
        .append(quanta::detail::format_cpulist(c.pus)).append("} ");
  return s;
}

// Field by field, so a failure says what differs.
void expect_same(const Topology& a, const Topology& b) {
  EXPECT_EQ(a.pus(), b.pus());
  EXPECT_EQ(a.core_count(), b.core_count());
  EXPECT_EQ(a.package_count(), b.package_count());
  EXPECT_EQ(a.nodes(), b.nodes());
  if (a.pus() == b.pus()) {
    for (int pu : a.pus()) {
      EXPECT_EQ(a.core_of_pu(pu), b.core_of_pu(pu)) << "PU " << pu;
      EXPECT_EQ(a.package_of_pu(pu), b.package_of_pu(pu)) << "PU " << pu;
      EXPECT_EQ(a.node_of_pu(pu), b.node_of_pu(pu)) << "PU " << pu;
    }
  }
  if (a.nodes() == b.nodes()) {
    for (unsigned n : a.nodes()) {
      EXPECT_EQ(a.cpu_mask_for_node(n), b.cpu_mask_for_node(n)) << "node " << n;
      for (unsigned m : a.nodes()) EXPECT_EQ(a.distance(n, m), b.distance(n, m)) << n << "->" << m;
    }
  }
  EXPECT_EQ(cache_list(a), cache_list(b));
  EXPECT_EQ(a.describe(), b.describe());
  EXPECT_TRUE(a == b);
}

#ifdef QUANTA_HAVE_HWLOC
using quanta::test::EnvVar;

// hwloc reading the fake tree: its Linux backend only (the x86 backend would
// add this host's own caches from CPUID).
Topology hwloc_on(const quanta::test::FakeSysfs& s) {
  EnvVar root("HWLOC_FSROOT", s.fsroot());
  EnvVar components("HWLOC_COMPONENTS", "linux,-x86");
  return quanta::detail::load_hwloc_machine();
}

TEST(TopologyLoaders, AgreeOnTwoPackagesFourNodes) {
  for (auto l3 :
       {quanta::test::L3Scope::Package, quanta::test::L3Scope::Node, quanta::test::L3Scope::None}) {
    quanta::test::FakeSysfs s;
    quanta::test::two_packages_four_nodes(s, l3);
    Topology hw = hwloc_on(s);
    Topology fs = Topology::from_sysfs(s.root());
    SCOPED_TRACE("L3 scope " + std::to_string(static_cast<int>(l3)) + "; hwloc: " + hw.describe() +
                 "; sysfs: " + fs.describe());
    EXPECT_EQ(hw.pu_count(), 16u);
    EXPECT_EQ(hw.node_count(), 4u);
    EXPECT_EQ(hw.distance(0, 3), 30u);  // hwloc's latency matrix was used
    expect_same(hw, fs);
    EXPECT_EQ(hw.victims_for(5, hw.pus()), fs.victims_for(5, fs.pus()));
  }
}

TEST(TopologyLoaders, AgreeWithoutNodeDirectory) {
  quanta::test::FakeSysfs s;
  quanta::test::one_package_no_nodes(s);
  Topology hw = hwloc_on(s);
  Topology fs = Topology::from_sysfs(s.root());
  SCOPED_TRACE("hwloc: " + hw.describe() + "; sysfs: " + fs.describe());
  EXPECT_EQ(hw.pu_count(), 4u);
  expect_same(hw, fs);
}

TEST(TopologyLoaders, AgreeWithOfflineCpuAndSparseNodes) {
  quanta::test::FakeSysfs s;
  quanta::test::offline_cpu_sparse_nodes(s);
  Topology hw = hwloc_on(s);
  Topology fs = Topology::from_sysfs(s.root());
  SCOPED_TRACE("hwloc: " + hw.describe() + "; sysfs: " + fs.describe());
  EXPECT_EQ(hw.nodes(), (std::vector<unsigned>{0, 2}));
  expect_same(hw, fs);
}

TEST(TopologyLoaders, SysfsReaderAgreesWithHwlocOnThisMachine) {
  Topology hw = quanta::detail::load_hwloc_machine();
  Topology fs = Topology::from_sysfs("/sys");
  SCOPED_TRACE("hwloc: " + hw.describe() + "; sysfs: " + fs.describe());
  expect_same(hw, fs);
}
#endif

TEST(TopologyLoaders, MachineTopologyIsSysfsRestrictedToAffinity) {
  Topology fs = quanta::detail::restrict_topology(Topology::from_sysfs("/sys"),
                                                  quanta::detail::affinity_pus());
  expect_same(quanta::topology(), fs);
}

}  // namespace
