// Where workers sit: one CPU each, round the allowed CPUs, pinned on the
// machine's topology and not on any other; steal orders nearest first.
#include <gtest/gtest.h>

#include <pthread.h>
#include <sched.h>

#include <vector>

#include "core/worker_cpus.hpp"
#include "test_support.hpp"

namespace {

using quanta::Config;
using quanta::Runtime;
using quanta::Topology;
using quanta::detail::victim_orders;

// The CPUs worker thread w may run on.
std::vector<int> thread_cpus(quanta::detail::Worker* w) {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> out;
  if (pthread_getaffinity_np(w->thread.native_handle(), sizeof set, &set) != 0) return out;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) out.push_back(c);
  return out;
}

TEST(WorkerCpus, OnTheMachineEachWorkerIsPinnedToItsCpu) {
  Runtime rt(quanta::test::config(3));
  for (auto* w : quanta::test::workers_of(rt)) {
    ASSERT_GE(w->cpu, 0);
    EXPECT_EQ(thread_cpus(w), std::vector<int>{w->cpu}) << "worker " << w->index;
    EXPECT_EQ(w->node, quanta::topology().node_of_pu(w->cpu));
  }
  EXPECT_TRUE(rt.impl().topo_is_machine);
}

TEST(WorkerCpus, OnAnotherTopologyWorkersAreNotPinned) {
  if (!Topology::has_hwloc()) GTEST_SKIP() << "synthetic topologies need hwloc";
#ifdef QUANTA_HAVE_HWLOC
  // More PUs than this machine is likely to have, numbered past its CPUs.
  const Topology topo = Topology::from_synthetic("pack:2 numa:2 core:8 pu:2");
  Config cfg = quanta::test::config(6);
  cfg.topology = &topo;
  Runtime rt(cfg);
  cpu_set_t mine;
  CPU_ZERO(&mine);
  ASSERT_EQ(sched_getaffinity(0, sizeof mine, &mine), 0);
  for (auto* w : quanta::test::workers_of(rt)) {
    EXPECT_EQ(w->cpu, static_cast<int>(w->index));
    EXPECT_EQ(static_cast<int>(thread_cpus(w).size()), CPU_COUNT(&mine))
        << "worker " << w->index << " was pinned on a logical topology";
  }
  EXPECT_FALSE(rt.impl().topo_is_machine);
  ASSERT_NE(rt.config().topology, nullptr);
  EXPECT_NE(rt.config().topology, &topo) << "the runtime keeps its own copy";
  EXPECT_TRUE(*rt.config().topology == topo);
  EXPECT_EQ(rt.spawn([] { return 7; }).join(), 7);
#endif
}

TEST(WorkerCpus, PassingTheMachinesTopologyPinsAsTheDefaultDoes) {
  Config cfg = quanta::test::config(2);
  cfg.topology = &quanta::topology();
  Runtime rt(cfg);
  EXPECT_TRUE(rt.impl().topo_is_machine);
  for (auto* w : quanta::test::workers_of(rt))
    EXPECT_EQ(thread_cpus(w), std::vector<int>{w->cpu});
}

TEST(WorkerCpus, StealOrdersFollowTheTopology) {
  if (!Topology::has_hwloc()) GTEST_SKIP() << "synthetic topologies need hwloc";
#ifdef QUANTA_HAVE_HWLOC
  // Nodes of two PUs, two nodes per package.
  const Topology topo = Topology::from_synthetic("pack:2 numa:2 core:2 pu:1");
  const auto orders = victim_orders({0, 1, 2, 3, 4, 5, 6, 7}, &topo);
  ASSERT_EQ(orders.size(), 8u);
  // Worker 0: its node, then its package, then the other package (ties in
  // ring order from the thief).
  EXPECT_EQ(orders[0], (std::vector<unsigned>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(orders[5], (std::vector<unsigned>{4, 6, 7, 0, 1, 2, 3}));
  // Workers sharing a PU steal from each other first.
  const auto shared = victim_orders({0, 2, 0, 2}, &topo);
  EXPECT_EQ(shared[0], (std::vector<unsigned>{2, 1, 3}));
  EXPECT_EQ(shared[3], (std::vector<unsigned>{1, 0, 2}));
  // Unknown CPUs or no topology: round the ring.
  EXPECT_EQ(victim_orders({-1, -1, -1}, &topo)[1], (std::vector<unsigned>{2, 0}));
  EXPECT_EQ(victim_orders({0, 1, 2}, nullptr)[2], (std::vector<unsigned>{0, 1}));
#endif
}

}  // namespace
