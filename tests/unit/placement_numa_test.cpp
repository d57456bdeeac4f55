// ThreadBuilder::numa_node and Config::topology: a runtime placed on a
// synthetic topology (workers assigned its PUs logically, not pinned), ULTs
// spawned onto the workers of their node, worker_index/numa_node as the ULT
// sees them, node-bound stacks on the machine, and the errors.
#include <gtest/gtest.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <linux/mempolicy.h>

#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using quanta::Config;
using quanta::MigrationPolicy;
using quanta::Runtime;
using quanta::SchedulerKind;
using quanta::ThreadBuilder;
using quanta::Topology;

#ifdef QUANTA_HAVE_HWLOC
// Two packages of two nodes of two single-PU cores: PUs 0..7, node k holds
// PUs 2k and 2k+1.
constexpr const char* kFourNodes = "pack:2 numa:2 core:2 pu:1";

struct Where {
  int worker = -1;
  int node = -1;
};

Where here() { return {quanta::this_thread::worker_index(), quanta::this_thread::numa_node()}; }
#endif

class NumaSynthetic : public ::testing::TestWithParam<SchedulerKind> {
 protected:
  void SetUp() override {
    if (!Topology::has_hwloc())
      GTEST_SKIP() << "synthetic topologies need hwloc; this build reads /sys only";
  }
};

TEST_P(NumaSynthetic, WorkersGetThePusOfTheTopologyInOrder) {
#ifdef QUANTA_HAVE_HWLOC
  const Topology topo = Topology::from_synthetic(kFourNodes);
  Config cfg = quanta::test::config(0);
  cfg.scheduler = GetParam();
  cfg.topology = &topo;
  Runtime rt(cfg);
  ASSERT_EQ(rt.worker_count(), 8u) << "workers = 0 means one per PU of the topology";
  auto ws = quanta::test::workers_of(rt);
  for (unsigned i = 0; i < 8; ++i) {
    EXPECT_EQ(ws[i]->cpu, static_cast<int>(i));
    EXPECT_EQ(ws[i]->node, i / 2);
  }
  EXPECT_FALSE(rt.impl().topo_is_machine);
#endif
}

TEST_P(NumaSynthetic, UltsStartOnAWorkerOfTheirNode) {
#ifdef QUANTA_HAVE_HWLOC
  const Topology topo = Topology::from_synthetic(kFourNodes);
  Config cfg = quanta::test::config(8);
  cfg.scheduler = GetParam();
  cfg.topology = &topo;
  Runtime rt(cfg);
  for (unsigned node : topo.nodes()) {
    for (int i = 0; i < 20; ++i) {
      // From the kernel thread.
      Where w = ThreadBuilder().numa_node(node).spawn(rt, here).join();
      EXPECT_EQ(w.node, static_cast<int>(node));
      EXPECT_EQ(static_cast<unsigned>(w.worker) / 2, node) << "worker " << w.worker;
      // From a ULT bound to a worker of another node.
      const int other_cpu = static_cast<int>(((node + 1) % 4) * 2);
      Where v = ThreadBuilder()
                    .cpu_affinity({other_cpu})
                    .spawn(rt, [node] { return ThreadBuilder().numa_node(node).spawn(here).join(); })
                    .join();
      EXPECT_EQ(v.node, static_cast<int>(node));
    }
  }
#endif
}

TEST_P(NumaSynthetic, NodeWithAffinityAndProhibitedStaysOnTheNode) {
#ifdef QUANTA_HAVE_HWLOC
  const Topology topo = Topology::from_synthetic(kFourNodes);
  Config cfg = quanta::test::config(8);
  cfg.scheduler = GetParam();
  cfg.topology = &topo;
  Runtime rt(cfg);
  std::vector<quanta::JoinHandle<long>> hs;
  for (unsigned node : topo.nodes()) {
    for (int i = 0; i < 4; ++i) {
      ThreadBuilder b;
      b.numa_node(node);
      if (i % 2) b.cpu_affinity(topo.cpu_mask_for_node(node));
      else b.migration(MigrationPolicy::Prohibited);
      const bool restricted = i % 2;
      hs.push_back(b.spawn(rt, [node, restricted] {
        // Restricted to the node's CPUs: always on the node. Prohibited: it
        // may have been stolen before it first ran (numa_node alone is a
        // preference), but never moves once it has.
        long wrong = 0;
        const int first = quanta::this_thread::worker_index();
        for (int k = 0; k < 500; ++k) {
          if (restricted && quanta::this_thread::numa_node() != static_cast<int>(node)) ++wrong;
          if (!restricted && quanta::this_thread::worker_index() != first) ++wrong;
          quanta::this_thread::yield();
        }
        return wrong;
      }));
    }
  }
  for (auto& h : hs) EXPECT_EQ(h.join(), 0);
#endif
}

TEST_P(NumaSynthetic, NodeOutsideTheTopologyIsAConfigErrorNamingTheNodes) {
#ifdef QUANTA_HAVE_HWLOC
  const Topology topo = Topology::from_synthetic(kFourNodes);
  Config cfg = quanta::test::config(2);
  cfg.scheduler = GetParam();
  cfg.topology = &topo;
  Runtime rt(cfg);
  try {
    ThreadBuilder().numa_node(4).spawn(rt, [] {}).join();
    ADD_FAILURE() << "numa_node(4) was accepted";
  } catch (const quanta::ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("numa_node 4"), std::string::npos) << msg;
    EXPECT_NE(msg.find("0-3"), std::string::npos) << msg;
  }
  // Two workers cover node 0 only: node 3 is valid, its ULT runs elsewhere.
  Where w = ThreadBuilder().numa_node(3).spawn(rt, here).join();
  EXPECT_EQ(w.node, 0);
  // Affinity to a CPU of the topology that no worker was given.
  EXPECT_THROW(ThreadBuilder().cpu_affinity({5}).spawn(rt, [] {}).join(), quanta::ConfigError);
#endif
}

INSTANTIATE_TEST_SUITE_P(Schedulers, NumaSynthetic,
                         ::testing::Values(SchedulerKind::RoundRobin, SchedulerKind::WorkStealing),
                         [](const auto& info) {
                           return info.param == SchedulerKind::RoundRobin ? "RoundRobin"
                                                                          : "WorkStealing";
                         });

// The memory policy of the page holding `p`: MPOL_* mode, or -1 when the
// system cannot say (no get_mempolicy, e.g. under qemu-user).
int policy_of(const void* p, unsigned long* nodes) {
  int mode = -1;
  *nodes = 0;
  if (syscall(SYS_get_mempolicy, &mode, nodes, sizeof(unsigned long) * 8, p, MPOL_F_ADDR) != 0)
    return -1;
  return mode;
}

TEST(NumaMachine, StackIsBoundToTheNodeOnTheMachinesTopology) {
  Runtime rt(quanta::test::config(2));
  const unsigned node = quanta::topology().nodes().front();
  struct Seen {
    bool dedicated = false;
    int mode = -1;
    unsigned long nodes = 0;
    int where = -1;
  };
  Seen s = ThreadBuilder()
               .numa_node(node)
               .spawn(rt,
                      [] {
                        Seen r;
                        volatile char probe[256] = {};
                        probe[0] = 1;
                        r.dedicated = quanta::test::current_ult()->stack.dedicated;
                        r.mode = policy_of(const_cast<char*>(probe), &r.nodes);
                        r.where = quanta::this_thread::numa_node();
                        return r;
                      })
               .join();
  EXPECT_TRUE(s.dedicated) << "a node-bound stack has a mapping of its own";
  EXPECT_EQ(s.where, static_cast<int>(node));
  if (s.mode == -1) GTEST_SKIP() << "get_mempolicy is not available here";
  // MPOL_BIND when mbind worked; the default policy only where the system
  // offers no binding on a single-node machine.
  if (s.mode == MPOL_BIND) {
    EXPECT_EQ(s.nodes, 1ul << node);
  } else {
    EXPECT_EQ(quanta::topology().node_count(), 1u) << "mode " << s.mode;
  }
  // A node that does not exist.
  EXPECT_THROW(ThreadBuilder().numa_node(4095).spawn(rt, [] {}).join(), quanta::ConfigError);
}

}  // namespace
