// tune::recommend: deterministic recommendations from given costs and
// topologies (fake sysfs trees everywhere, hwloc synthetic ones where the
// build has hwloc).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "test_support.hpp"
#include "topology_fake_sysfs.hpp"

namespace {

using quanta::SchedulerKind;
using quanta::Topology;
using quanta::tune::Calibration;
using quanta::tune::recommend;
using namespace std::chrono_literals;

Calibration costs(double preempt_ns, std::size_t frame = 2048) {
  Calibration c;
  c.switch_ns = 40;
  c.spawn_join_ns = 300;
  c.preempt_ns = preempt_ns;
  c.preempt_switch_ns = preempt_ns;
  c.preempt_cpu_ns = preempt_ns;
  c.preemptions = 1000;
  c.wake_ns = 20000;
  c.signal_frame_bytes = frame;
  return c;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(TuneRecommend, FourNodeMachineFromSysfs) {
  quanta::test::FakeSysfs s;
  quanta::test::two_packages_four_nodes(s, quanta::test::L3Scope::Package);
  const Topology t = Topology::from_sysfs(s.root());
  const auto r = recommend(costs(3200), t);
  EXPECT_EQ(r.workers, 16u);
  EXPECT_TRUE(contains(r.workers_reason, "2 packages, 4 NUMA nodes, 8 cores, 16 PUs"))
      << r.workers_reason;
  EXPECT_TRUE(contains(r.workers_reason, "SMT")) << r.workers_reason;
  EXPECT_EQ(r.scheduler, SchedulerKind::WorkStealing);
  EXPECT_TRUE(contains(r.scheduler_reason, "4 NUMA nodes")) << r.scheduler_reason;
  // 100 x 3.2 us = 320 us, rounded up to 400 us.
  EXPECT_EQ(r.time_slice, 400us);
  EXPECT_TRUE(contains(r.time_slice_reason, "3.2 us")) << r.time_slice_reason;
  EXPECT_TRUE(contains(r.time_slice_reason, "< 1 %")) << r.time_slice_reason;
  EXPECT_EQ(r.stack_size, quanta::kDefaultStackSize);
  EXPECT_TRUE(contains(r.stack_size_reason, "2 KiB")) << r.stack_size_reason;
}

TEST(TuneRecommend, SameInputsSameResult) {
  quanta::test::FakeSysfs s;
  quanta::test::one_package_no_nodes(s);
  const Topology t = Topology::from_sysfs(s.root());
  const auto a = recommend(costs(1234), t), b = recommend(costs(1234), t);
  EXPECT_EQ(a.workers, b.workers);
  EXPECT_EQ(a.time_slice, b.time_slice);
  EXPECT_EQ(a.stack_size, b.stack_size);
  EXPECT_EQ(a.scheduler, b.scheduler);
  EXPECT_EQ(a.time_slice_reason, b.time_slice_reason);
  EXPECT_EQ(a.workers, 4u);
  EXPECT_FALSE(contains(a.scheduler_reason, "NUMA")) << a.scheduler_reason;
}

TEST(TuneRecommend, TimeSliceIsClampedAndRounded) {
  quanta::test::FakeSysfs s;
  quanta::test::one_package_no_nodes(s);
  const Topology t = Topology::from_sysfs(s.root());
  // Cheap preemption: 100 x 0.3 us = 30 us < kMinTimeSlice.
  auto r = recommend(costs(300), t);
  EXPECT_EQ(r.time_slice, quanta::kMinTimeSlice);
  EXPECT_TRUE(contains(r.time_slice_reason, "kMinTimeSlice")) << r.time_slice_reason;
  // Exactly on a step: 100 x 5 us = 500 us.
  EXPECT_EQ(recommend(costs(5000), t).time_slice, 500us);
  // Just above a step: 100 x 5.001 us -> 600 us.
  EXPECT_EQ(recommend(costs(5001), t).time_slice, 600us);
  // Very expensive preemption (emulators): clamped to kMaxTimeSlice.
  r = recommend(costs(1e9), t);
  EXPECT_EQ(r.time_slice, quanta::kMaxTimeSlice);
  EXPECT_TRUE(contains(r.time_slice_reason, "kMaxTimeSlice")) << r.time_slice_reason;
}

TEST(TuneRecommend, UnknownPreemptionCostKeepsTheDefaultSlice) {
  quanta::test::FakeSysfs s;
  quanta::test::one_package_no_nodes(s);
  const Topology t = Topology::from_sysfs(s.root());
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), 0.0, -5.0}) {
    const auto r = recommend(costs(bad), t);
    EXPECT_EQ(r.time_slice, quanta::Config{}.time_slice);
    EXPECT_TRUE(contains(r.time_slice_reason, "default")) << r.time_slice_reason;
  }
}

TEST(TuneRecommend, LargeSignalFramesGetLargerStacks) {
  quanta::test::FakeSysfs s;
  quanta::test::one_package_no_nodes(s);
  const Topology t = Topology::from_sysfs(s.root());
  EXPECT_EQ(recommend(costs(2000, 0), t).stack_size, quanta::kDefaultStackSize);
  EXPECT_EQ(recommend(costs(2000, 4096), t).stack_size, quanta::kDefaultStackSize);
  // 16 x 9000 bytes = 144000 -> the next power of two, 256 KiB.
  const auto r = recommend(costs(2000, 9000), t);
  EXPECT_EQ(r.stack_size, 256u * 1024);
  EXPECT_TRUE(contains(r.stack_size_reason, "9000 bytes")) << r.stack_size_reason;
}

TEST(TuneRecommend, ApplySetsTheFourFields) {
  quanta::test::FakeSysfs s;
  quanta::test::one_package_no_nodes(s);
  const auto r = recommend(costs(4000), Topology::from_sysfs(s.root()));
  quanta::Config base;
  base.preempt = false;
  base.stack_guard = quanta::StackGuard::Canary;
  const quanta::Config c = r.apply(base);
  EXPECT_EQ(c.workers, r.workers);
  EXPECT_EQ(c.time_slice, r.time_slice);
  EXPECT_EQ(c.stack_size, r.stack_size);
  EXPECT_EQ(c.scheduler, r.scheduler);
  EXPECT_FALSE(c.preempt);
  EXPECT_EQ(c.stack_guard, quanta::StackGuard::Canary);
  EXPECT_NO_THROW(c.validate());
}

#ifdef QUANTA_HAVE_HWLOC

TEST(TuneRecommend, SyntheticSingleCoreGetsOneRoundRobinWorker) {
  const Topology t = Topology::from_synthetic("pack:1 core:1 pu:1");
  const auto r = recommend(costs(2500), t);
  EXPECT_EQ(r.workers, 1u);
  EXPECT_EQ(r.scheduler, SchedulerKind::RoundRobin);
  EXPECT_TRUE(contains(r.scheduler_reason, "one worker")) << r.scheduler_reason;
  EXPECT_FALSE(contains(r.workers_reason, "SMT")) << r.workers_reason;
  EXPECT_EQ(r.time_slice, 300us);
}

TEST(TuneRecommend, SyntheticTwoPackagesTwoNodes) {
  const Topology t = Topology::from_synthetic("pack:2 numa:2 core:4 pu:2");
  const auto r = recommend(costs(2500), t);
  EXPECT_EQ(r.workers, 32u);
  EXPECT_EQ(r.scheduler, SchedulerKind::WorkStealing);
  EXPECT_TRUE(contains(r.scheduler_reason, "4 NUMA nodes")) << r.scheduler_reason;
  EXPECT_TRUE(contains(r.workers_reason, "32 PUs")) << r.workers_reason;
}

TEST(TuneRecommend, RecommendationRunsOnTheSyntheticTopology) {
  const Topology t = Topology::from_synthetic("pack:1 numa:2 core:2 pu:1");
  quanta::Config c = recommend(costs(2500), t).apply();
  c.topology = &t;
  c.preempt = false;
  quanta::Runtime rt(c);
  EXPECT_EQ(rt.worker_count(), 4u);
  EXPECT_EQ(rt.spawn([] { return 3; }).join(), 3);
}

#else

TEST(TuneRecommend, SyntheticTopologiesNeedHwloc) {
  EXPECT_THROW(Topology::from_synthetic("pack:1 core:1 pu:1"), quanta::UsageError);
}

#endif

}  // namespace
