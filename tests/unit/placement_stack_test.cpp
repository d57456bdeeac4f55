// Stack placement options: huge_pages (a mapping of its own for stacks of at
// least 2 MiB, top aligned to 2 MiB, advised MADV_HUGEPAGE, never pooled) and
// stack_prefetch (ULTs that prefetch their context before each switch run as
// any other).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/placement.hpp"
#include "stack/stack.hpp"
#include "test_support.hpp"

namespace {

using quanta::Runtime;
using quanta::SchedulerKind;
using quanta::ThreadBuilder;
using quanta::detail::StackMem;

constexpr std::size_t kMiB = std::size_t{1} << 20;

// Touches `bytes` of the calling ULT's stack, a page at a time, and returns a
// checksum that depends on every page.
[[gnu::noinline]] std::uint64_t touch_stack(std::size_t bytes) {
  char* buf = static_cast<char*>(__builtin_alloca(bytes));
  for (std::size_t i = 0; i < bytes; i += 4096) buf[i] = static_cast<char>(i >> 12);
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < bytes; i += 4096) sum += static_cast<unsigned char>(buf[i]);
  asm volatile("" : : "r"(buf) : "memory");
  return sum;
}

std::uint64_t expected_sum(std::size_t bytes) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < bytes; i += 4096) sum += static_cast<unsigned char>(i >> 12);
  return sum;
}

// VmFlags of the mapping holding p in /proc/self/smaps; empty if not found.
std::string vm_flags_of(const void* p) {
  std::ifstream in("/proc/self/smaps");
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    std::uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
      inside = lo <= a && a < hi;
      continue;
    }
    if (inside && line.rfind("VmFlags:", 0) == 0) return line;
  }
  return {};
}

struct StackSeen {
  StackMem stack;
  std::uint64_t sum = 0;
  std::string flags;
};

TEST(HugePages, BigStackHasItsOwnAlignedMapping) {
  Runtime rt(quanta::test::config(2));
  const std::size_t size = 4 * kMiB;
  StackSeen s = ThreadBuilder()
                    .stack_size(size)
                    .huge_pages(true)
                    .spawn(rt,
                           [] {
                             StackSeen r;
                             r.stack = quanta::test::current_ult()->stack;
                             r.sum = touch_stack(3 * kMiB);
                             r.flags = vm_flags_of(r.stack.top() - 4096);
                             return r;
                           })
                    .join();
  EXPECT_EQ(s.sum, expected_sum(3 * kMiB));
  EXPECT_TRUE(s.stack.dedicated);
  EXPECT_EQ(s.stack.size, size);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(s.stack.top()) % (2 * kMiB), 0u)
      << "the top of a huge-page stack is 2 MiB aligned";
#ifndef QUANTA_TESTS_EMULATED
  // Where the kernel has transparent huge pages, the advice shows as "hg".
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  if (thp && !s.flags.empty()) {
    EXPECT_NE(s.flags.find(" hg"), std::string::npos) << s.flags;
  }
#endif
}

TEST(HugePages, SmallStacksIgnoreTheOption) {
  Runtime rt(quanta::test::config(1));
  StackMem s = ThreadBuilder()
                   .stack_size(256 << 10)
                   .huge_pages(true)
                   .spawn(rt, [] { return quanta::test::current_ult()->stack; })
                   .join();
  EXPECT_FALSE(s.dedicated) << "below 2 MiB huge_pages is ignored: a pooled stack";
}

TEST(HugePages, NormalSpawnsNeverReceiveAHugePageStack) {
  Runtime rt(quanta::test::config(1));
  const std::size_t size = 2 * kMiB;  // exactly the threshold
  for (int i = 0; i < 20; ++i) {
    StackMem h = ThreadBuilder()
                     .stack_size(size)
                     .huge_pages(true)
                     .spawn(rt, [] { return quanta::test::current_ult()->stack; })
                     .join();
    EXPECT_TRUE(h.dedicated);
    StackMem n = ThreadBuilder()
                     .stack_size(size)
                     .spawn(rt, [] { return quanta::test::current_ult()->stack; })
                     .join();
    EXPECT_FALSE(n.dedicated) << "a normal spawn got a huge-page stack back from the pool";
  }
}

TEST(DedicatedStack, GuardPageOrCanaryAsTheModeSays) {
  using quanta::StackGuard;
  using quanta::detail::kHugePageSize;
  StackMem g = quanta::detail::map_dedicated_stack(64 << 10, StackGuard::Auto, false, kHugePageSize);
  EXPECT_TRUE(g.dedicated);
  EXPECT_TRUE(g.guarded);
  g.base[0] = 1;
  g.top()[-1] = 1;
  quanta::detail::unmap_dedicated_stack(g);

  StackMem c = quanta::detail::map_dedicated_stack(64 << 10, StackGuard::Canary, true, kHugePageSize);
  EXPECT_FALSE(c.guarded);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(c.top()) % kHugePageSize, 0u);
  c.base[0] = 1;
  quanta::detail::unmap_dedicated_stack(c);
}

class Prefetch : public ::testing::TestWithParam<SchedulerKind> {};

TEST_P(Prefetch, PrefetchingUltsYieldAndComputeCorrectly) {
  quanta::Config cfg = quanta::test::config(2);
  cfg.scheduler = GetParam();
  Runtime rt(cfg);
  std::vector<quanta::JoinHandle<std::uint64_t>> hs;
  for (int u = 0; u < 16; ++u) {
    ThreadBuilder b;
    if (u % 2 == 0) b.stack_prefetch(true);
    hs.push_back(b.spawn(rt, [u] {
      std::uint64_t h = 1469598103934665603ull + static_cast<std::uint64_t>(u);
      for (int i = 0; i < 3000; ++i) {
        h = (h ^ static_cast<std::uint64_t>(i)) * 1099511628211ull;
        quanta::this_thread::yield();
      }
      return h;
    }));
  }
  for (int u = 0; u < 16; ++u) {
    std::uint64_t h = 1469598103934665603ull + static_cast<std::uint64_t>(u);
    for (int i = 0; i < 3000; ++i) h = (h ^ static_cast<std::uint64_t>(i)) * 1099511628211ull;
    EXPECT_EQ(hs[static_cast<std::size_t>(u)].join(), h);
  }
}

TEST_P(Prefetch, AllOptionsTogether) {
  quanta::Config cfg = quanta::test::config(2);
  cfg.scheduler = GetParam();
  Runtime rt(cfg);
  auto ws = quanta::test::workers_of(rt);
  const int cpu = ws[1]->cpu;
  const std::uint64_t sum = ThreadBuilder()
                                .name("placed")
                                .stack_size(2 * kMiB)
                                .huge_pages(true)
                                .stack_prefetch(true)
                                .numa_node(ws[1]->node)
                                .cpu_affinity({cpu})
                                .migration(quanta::MigrationPolicy::Prohibited)
                                .spawn(rt, [] {
                                  std::uint64_t s = 0;
                                  for (int i = 0; i < 100; ++i) {
                                    s += touch_stack(256 << 10);
                                    quanta::this_thread::yield();
                                  }
                                  return s;
                                })
                                .join();
  EXPECT_EQ(sum, 100 * expected_sum(256 << 10));
}

INSTANTIATE_TEST_SUITE_P(Schedulers, Prefetch,
                         ::testing::Values(SchedulerKind::RoundRobin, SchedulerKind::WorkStealing),
                         [](const auto& info) {
                           return info.param == SchedulerKind::RoundRobin ? "RoundRobin"
                                                                          : "WorkStealing";
                         });

}  // namespace
