// quanta::Rcu under load: readers on many preemptible ULTs of every worker
// (and on kernel threads) never see a freed version while writers replace it
// a million times (fewer under ASan and QEMU). A freed version is poisoned by
// its destructor, and under ASan reading it is a use-after-free report.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "rcu/rcu_runtime.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using quanta::Rcu;
using quanta::Runtime;
using quanta::SchedulerKind;
using quanta::detail::RcuOrdering;

constexpr std::uint64_t kMagic = 0x5eed'c0de'feed'beefULL;
constexpr std::uint64_t kPoison = 0xdead'dead'dead'deadULL;

std::atomic<long> g_live{0};

struct Versioned {
  std::uint64_t magic = kMagic;
  std::uint64_t version = 0;
  std::uint64_t check = 7;  // version * 31 + 7
  explicit Versioned(std::uint64_t v) : version(v), check(v * 31 + 7) { g_live.fetch_add(1); }
  Versioned(const Versioned& o) : version(o.version), check(o.check) { g_live.fetch_add(1); }
  ~Versioned() {
    // Volatile stores: not removed as dead stores before the free.
    *static_cast<volatile std::uint64_t*>(&magic) = kPoison;
    *static_cast<volatile std::uint64_t*>(&version) = kPoison;
    *static_cast<volatile std::uint64_t*>(&check) = kPoison;
    g_live.fetch_sub(1);
  }
};

// Reads one version and checks it is intact; returns its number.
std::uint64_t read_checked(const Rcu<Versioned>& r, std::atomic<long>& bad, int work) {
  auto g = r.read();
  const std::uint64_t v = g->version;
  if (g->magic != kMagic || g->check != v * 31 + 7) bad.fetch_add(1);
  quanta::test::burn(work);  // stay inside a while: updates and preemptions happen
  if (g->magic != kMagic || g->version != v || g->check != v * 31 + 7) bad.fetch_add(1);
  return v;
}

enum class Mode { Default, Fences };

class RcuStress : public ::testing::TestWithParam<std::tuple<SchedulerKind, Mode>> {};

TEST_P(RcuStress, ReadersNeverSeeAFreedVersion) {
  auto [kind, mode] = GetParam();
  if (mode == Mode::Fences) quanta::detail::rcu_set_ordering_for_testing(RcuOrdering::Fences);
  const RcuOrdering before = quanta::detail::rcu_ordering();

  const long updates = quanta::test::stress_scaled(1'000'000, 20'000);
  const unsigned workers = 4;
  quanta::Config cfg = quanta::test::preemptive(workers, 100us);
  cfg.scheduler = kind;
  g_live.store(0);
  {
    Runtime rt(cfg);
    Rcu<Versioned> r(Versioned(0));
    std::atomic<long> done_updates{0}, reads{0}, bad{0}, backwards{0};
    std::atomic<bool> stop{false};

    quanta::test::Watchdog dog("rcu stress updates",
                               [&] { return static_cast<std::uint64_t>(done_updates.load()); });

    std::vector<quanta::JoinHandle<void>> readers;
    for (unsigned t = 0; t < workers * 4; ++t) {
      readers.push_back(rt.spawn([&, t] {
        std::uint64_t last = 0;
        long n = 0;
        while (!stop.load(std::memory_order_relaxed)) {
          const std::uint64_t v = read_checked(r, bad, static_cast<int>((t % 4) * 50));
          if (v < last) backwards.fetch_add(1);
          last = v;
          ++n;
          quanta::test::burn(20);  // preemptible, outside any section
        }
        reads.fetch_add(n);
      }));
    }
    std::vector<std::thread> kernel_readers;
    for (int t = 0; t < 2; ++t) {
      kernel_readers.emplace_back([&] {
        std::uint64_t last = 0;
        while (!stop.load(std::memory_order_relaxed)) {
          const std::uint64_t v = read_checked(r, bad, 100);
          if (v < last) backwards.fetch_add(1);
          last = v;
        }
      });
    }

    // Two writer ULTs with update(fn) (so versions count the updates) and
    // now and then a synchronize(); a kernel thread synchronizes too.
    std::vector<quanta::JoinHandle<void>> writers;
    for (int w = 0; w < 2; ++w) {
      writers.push_back(rt.spawn([&] {
        for (long i = 0; i < updates / 2; ++i) {
          r.update([](const Versioned& old) { return Versioned(old.version + 1); });
          done_updates.fetch_add(1, std::memory_order_relaxed);
          if (i % 4096 == 0) r.synchronize();
        }
      }));
    }
    std::thread kernel_sync([&] {
      while (done_updates.load() < updates / 2 * 2) {
        r.synchronize();
        std::this_thread::sleep_for(2ms);
      }
    });
    for (auto& w : writers) w.join();
    kernel_sync.join();
    stop.store(true);
    for (auto& h : readers) h.join();
    for (auto& t : kernel_readers) t.join();

    EXPECT_EQ(bad.load(), 0);
    EXPECT_EQ(backwards.load(), 0);
    EXPECT_GT(reads.load(), 0);
    EXPECT_EQ(r.read()->version, static_cast<std::uint64_t>(updates / 2 * 2));
    r.synchronize();
    EXPECT_EQ(r.retired(), 0u);
    EXPECT_EQ(g_live.load(), 1);
  }
  EXPECT_EQ(g_live.load(), 0);
  if (mode == Mode::Fences) {
    EXPECT_EQ(before, RcuOrdering::Fences);
    // Back to what the system offers, for the tests that follow.
    quanta::detail::rcu_set_ordering_for_testing(RcuOrdering::Unknown);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Schedulers, RcuStress,
    ::testing::Combine(::testing::Values(SchedulerKind::WorkStealing, SchedulerKind::RoundRobin),
                       ::testing::Values(Mode::Default, Mode::Fences)),
    [](const auto& info) {
      return std::string(std::get<0>(info.param) == SchedulerKind::WorkStealing ? "WorkStealing"
                                                                                : "RoundRobin") +
             (std::get<1>(info.param) == Mode::Fences ? "Fences" : "Default");
    });

}  // namespace
