// MemoryPool: sizes route to the small / medium / system classes, exhaustion
// falls back to the system allocator and is counted, the stats add up, the
// configuration is validated, and the pool works from kernel threads and ULTs.
#include <gtest/gtest.h>

#include <quanta/pool.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/sanitizer.hpp"
#include "pool/pool_class.hpp"
#include "test_support.hpp"

namespace {

using quanta::ConfigError;
using quanta::MemoryPool;
using quanta::MemoryPoolConfig;
using quanta::MemoryPoolStats;
using quanta::PoolClassStats;

MemoryPoolConfig small_config(std::size_t small_cap, std::size_t medium_cap, bool per_cpu) {
  MemoryPoolConfig c;
  c.small_pool_capacity = small_cap;
  c.medium_pool_capacity = medium_cap;
  c.per_cpu = per_cpu;
  return c;
}

// Every class's blocks are accounted for.
void expect_adds_up(const PoolClassStats& s) {
  EXPECT_EQ(s.allocated - s.fallback_allocated + s.cached + s.fresh, s.capacity)
      << "allocated " << s.allocated << " fallback_allocated " << s.fallback_allocated
      << " cached " << s.cached << " fresh " << s.fresh;
}

void expect_adds_up(const MemoryPoolStats& s) {
  expect_adds_up(s.small);
  expect_adds_up(s.medium);
}

// Asserts the message of the ConfigError thrown by fn contains every fragment.
template <class F>
void expect_config_error(F fn, std::vector<std::string> fragments) {
  try {
    fn();
    ADD_FAILURE() << "no ConfigError";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << msg << "\n  lacks: " << f;
  }
}

TEST(MemoryPoolConfig, DefaultsAreValid) {
  MemoryPoolConfig c;
  EXPECT_EQ(c.small_object_size, 64u);
  EXPECT_EQ(c.small_pool_capacity, 4096u);
  EXPECT_EQ(c.medium_object_size, 1024u);
  EXPECT_EQ(c.medium_pool_capacity, 1024u);
  EXPECT_TRUE(c.per_cpu);
  EXPECT_NO_THROW(c.validate());
  MemoryPool pool;
  EXPECT_EQ(pool.config().small_object_size, 64u);
  EXPECT_EQ(pool.stats().small.capacity, 4096u);
  EXPECT_EQ(pool.stats().medium.capacity, 1024u);
}

TEST(MemoryPoolConfig, ErrorsNameTheFieldAndTheRange) {
  auto with = [](auto edit) {
    MemoryPoolConfig c;
    edit(c);
    return c;
  };
  expect_config_error([&] { with([](auto& c) { c.small_object_size = 0; }).validate(); },
                      {"MemoryPoolConfig::small_object_size = 0", "[1, 65536]"});
  expect_config_error([&] { with([](auto& c) { c.medium_object_size = 70000; }).validate(); },
                      {"MemoryPoolConfig::medium_object_size = 70000", "[1, 65536]"});
  expect_config_error(
      [&] {
        with([](auto& c) {
          c.small_object_size = 1024;
          c.medium_object_size = 1024;
        }).validate();
      },
      {"small_object_size = 1024", "medium_object_size = 1024",
       "expected small_object_size < medium_object_size"});
  expect_config_error(
      [&] {
        with([](auto& c) {
          c.small_object_size = 2000;
          c.medium_object_size = 100;
        }).validate();
      },
      {"small_object_size = 2000", "medium_object_size = 100"});
  expect_config_error([&] { with([](auto& c) { c.small_pool_capacity = 0; }).validate(); },
                      {"MemoryPoolConfig::small_pool_capacity = 0", "[1, 16777216]"});
  expect_config_error(
      [&] { with([](auto& c) { c.medium_pool_capacity = quanta::kMaxPoolCapacity + 1; }).validate(); },
      {"MemoryPoolConfig::medium_pool_capacity = 16777217", "[1, 16777216]"});
  // The constructor validates too.
  expect_config_error(
      [&] { MemoryPool pool(with([](auto& c) { c.small_pool_capacity = 0; })); },
      {"small_pool_capacity = 0"});
  // The limits themselves are accepted.
  MemoryPoolConfig edge;
  edge.small_object_size = 1;
  edge.medium_object_size = quanta::kMaxPoolObjectSize;
  edge.small_pool_capacity = 1;
  edge.medium_pool_capacity = 1;
  EXPECT_NO_THROW(edge.validate());
  MemoryPool pool(edge);
  void* p = pool.allocate(quanta::kMaxPoolObjectSize);
  std::memset(p, 7, quanta::kMaxPoolObjectSize);
  EXPECT_EQ(pool.stats().medium.allocated, 1u);
  pool.deallocate(p, quanta::kMaxPoolObjectSize);
}

TEST(MemoryPool, SizesRouteToTheirClass) {
  MemoryPool pool;  // small <= 64, medium <= 1024
  struct Case {
    std::size_t bytes;
    int cls;  // 0 small, 1 medium, 2 large
  };
  const Case cases[] = {{0, 0},    {1, 0},    {63, 0},   {64, 0},    {65, 1},
                        {512, 1},  {1024, 1}, {1025, 2}, {4096, 2},  {1 << 20, 2}};
  std::vector<std::pair<void*, std::size_t>> live;
  std::size_t expect[3] = {0, 0, 0};
  for (const Case& c : cases) {
    void* p = pool.allocate(c.bytes);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignof(std::max_align_t), 0u) << c.bytes;
    std::memset(p, 0x5a, c.bytes);
    live.emplace_back(p, c.bytes);
    ++expect[c.cls];
    MemoryPoolStats st = pool.stats();
    EXPECT_EQ(st.small.allocated, expect[0]) << c.bytes;
    EXPECT_EQ(st.medium.allocated, expect[1]) << c.bytes;
    EXPECT_EQ(st.large.allocated, expect[2]) << c.bytes;
  }
  // Distinct blocks.
  std::set<void*> distinct;
  for (auto& [p, n] : live) distinct.insert(p);
  EXPECT_EQ(distinct.size(), live.size());

  MemoryPoolStats st = pool.stats();
  EXPECT_EQ(st.small.object_size, 64u);
  EXPECT_EQ(st.medium.object_size, 1024u);
  EXPECT_EQ(st.large.allocations, 3u);
  EXPECT_EQ(st.large.fallbacks, 3u);
  EXPECT_EQ(st.small.fallbacks, 0u);
  EXPECT_EQ(st.medium.fallbacks, 0u);
  for (auto& [p, n] : live) pool.deallocate(p, n);
  st = pool.stats();
  EXPECT_EQ(st.small.allocated, 0u);
  EXPECT_EQ(st.medium.allocated, 0u);
  EXPECT_EQ(st.large.allocated, 0u);
  // Fresh blocks enter a cache a magazine at a time: at least the freed ones
  // are cached, and none is lost.
  EXPECT_GE(st.small.cached, 4u);
  EXPECT_GE(st.medium.cached, 3u);
  EXPECT_EQ(st.small.cached + st.small.fresh, st.small.capacity);
  EXPECT_EQ(st.medium.cached + st.medium.fresh, st.medium.capacity);
  expect_adds_up(st);
  pool.deallocate(nullptr, 10);  // no effect
}

TEST(MemoryPool, BlockSizesRoundToMaxAlign) {
  MemoryPoolConfig c;
  c.small_object_size = 20;
  c.medium_object_size = 100;
  MemoryPool pool(c);
  const std::size_t a = alignof(std::max_align_t);
  EXPECT_EQ(pool.stats().small.object_size, (20 + a - 1) / a * a);
  EXPECT_EQ(pool.stats().medium.object_size, (100 + a - 1) / a * a);
  // 21..100 bytes are medium even though a small block may have room for them.
  void* p = pool.allocate(21);
  EXPECT_EQ(pool.stats().medium.allocated, 1u);
  pool.deallocate(p, 21);
}

TEST(MemoryPool, FreedBlocksAreReused) {
  MemoryPool pool(small_config(64, 16, false));
  void* a = pool.allocate(32);
  pool.deallocate(a, 32);
  void* b = pool.allocate(40);  // same class, last freed first
  EXPECT_EQ(a, b);
  pool.deallocate(b, 40);
  for (int round = 0; round < 100; ++round) {
    std::vector<void*> v;
    for (int i = 0; i < 50; ++i) v.push_back(pool.allocate(64));
    for (void* p : v) pool.deallocate(p, 64);
  }
  MemoryPoolStats st = pool.stats();
  EXPECT_EQ(st.small.fallbacks, 0u);
  EXPECT_EQ(st.small.allocations, 2u + 100u * 50u);
  EXPECT_LE(st.small.cached, 64u);
  EXPECT_EQ(st.small.allocated, 0u);
  expect_adds_up(st);
}

TEST(MemoryPool, ExhaustionFallsBackAndIsCounted) {
  for (bool per_cpu : {false, true}) {
    SCOPED_TRACE(per_cpu ? "per_cpu" : "shared");
    MemoryPool pool(small_config(8, 4, per_cpu));
    std::vector<std::pair<void*, std::size_t>> blocks;
    auto get = [&](std::size_t n) {
      void* p = pool.allocate(n);
      std::memset(p, static_cast<int>(n), n);
      blocks.emplace_back(p, n);
    };
    // Nothing has been freed yet, so the first `capacity` requests get the
    // class's own blocks wherever they run.
    for (int i = 0; i < 8; ++i) get(64);
    for (int i = 0; i < 4; ++i) get(1000);
    MemoryPoolStats st = pool.stats();
    EXPECT_EQ(st.small.fallbacks, 0u);
    EXPECT_EQ(st.small.fresh, 0u);
    EXPECT_EQ(st.medium.fallbacks, 0u);
    for (int i = 0; i < 5; ++i) get(1);
    for (int i = 0; i < 3; ++i) get(1024);
    st = pool.stats();
    EXPECT_EQ(st.small.allocated, 13u);
    EXPECT_EQ(st.small.fallbacks, 5u);
    EXPECT_EQ(st.small.fallback_allocated, 5u);
    EXPECT_EQ(st.small.allocations, 13u);
    EXPECT_EQ(st.medium.allocated, 7u);
    EXPECT_EQ(st.medium.fallbacks, 3u);
    expect_adds_up(st);
    for (auto [p, n] : blocks) {
      EXPECT_EQ(static_cast<unsigned char*>(p)[n - 1], static_cast<unsigned char>(n));
      pool.deallocate(p, n);
    }
    st = pool.stats();
    EXPECT_EQ(st.small.allocated, 0u);
    EXPECT_EQ(st.small.fallback_allocated, 0u);
    EXPECT_EQ(st.small.fallbacks, 5u);  // cumulative
    // Fallback blocks went back to the system: the class caches only its own.
    EXPECT_EQ(st.small.cached, 8u);
    EXPECT_EQ(st.medium.cached, 4u);
    expect_adds_up(st);
  }
}

TEST(MemoryPool, StatsAddUpUnderRandomUse) {
  MemoryPool pool(small_config(40, 30, false));
  std::vector<std::pair<void*, std::size_t>> live;
  unsigned rng = 7;
  std::uint64_t n_alloc[3] = {0, 0, 0};
  for (int step = 0; step < 20000; ++step) {
    rng = rng * 1103515245u + 12345u;
    if (live.size() < 200 && (rng >> 16) % 3 != 0) {
      const unsigned r = rng >> 8;
      const std::size_t bytes = r % 3 == 0 ? r / 3 % 65 : r % 3 == 1 ? 65 + r / 3 % 960 : 1025 + r / 3 % 1000;
      void* p = pool.allocate(bytes);
      std::memset(p, static_cast<int>(bytes & 0xff), bytes);
      live.emplace_back(p, bytes);
      ++n_alloc[bytes <= 64 ? 0 : bytes <= 1024 ? 1 : 2];
    } else if (!live.empty()) {
      const std::size_t i = (rng >> 4) % live.size();
      auto [p, bytes] = live[i];
      for (std::size_t k = 0; k < bytes; ++k)
        ASSERT_EQ(static_cast<unsigned char*>(p)[k], bytes & 0xff);
      pool.deallocate(p, bytes);
      live[i] = live.back();
      live.pop_back();
    }
    if (step % 97 == 0) {
      MemoryPoolStats st = pool.stats();
      expect_adds_up(st);
      std::size_t by_class[3] = {0, 0, 0};
      for (auto& [p, b] : live) ++by_class[b <= 64 ? 0 : b <= 1024 ? 1 : 2];
      EXPECT_EQ(st.small.allocated, by_class[0]);
      EXPECT_EQ(st.medium.allocated, by_class[1]);
      EXPECT_EQ(st.large.allocated, by_class[2]);
      EXPECT_EQ(st.small.allocations, n_alloc[0]);
      EXPECT_EQ(st.medium.allocations, n_alloc[1]);
      EXPECT_EQ(st.large.allocations, n_alloc[2]);
    }
  }
  for (auto& [p, b] : live) pool.deallocate(p, b);
  MemoryPoolStats st = pool.stats();
  EXPECT_EQ(st.small.allocated + st.medium.allocated + st.large.allocated, 0u);
  // Up to 200 live blocks, a third of each class: both classes ran out at times.
  EXPECT_GT(st.small.fallbacks, 0u);
  EXPECT_GT(st.medium.fallbacks, 0u);
  expect_adds_up(st);
}

TEST(MemoryPool, CacheNeverHoldsMoreThanCapacity) {
  MemoryPool pool(small_config(32, 8, true));
  for (int round = 0; round < 20; ++round) {
    std::vector<void*> v;
    for (int i = 0; i < 200; ++i) v.push_back(pool.allocate(48));
    for (void* p : v) pool.deallocate(p, 48);
    MemoryPoolStats st = pool.stats();
    EXPECT_LE(st.small.cached, 32u);
    EXPECT_EQ(st.small.allocated, 0u);
    expect_adds_up(st);
  }
}

TEST(MemoryPool, SystemAllocatorFailureIsBadAlloc) {
#ifdef QUANTA_ASAN
  GTEST_SKIP() << "ASan aborts on impossible allocation sizes";
#else
  MemoryPool pool;
  EXPECT_THROW((void)pool.allocate(std::size_t{1} << 62), std::bad_alloc);
  EXPECT_EQ(pool.stats().large.allocated, 0u);
#endif
}

TEST(MemoryPool, MagazineSizingStaysWithinHalfTheCapacity) {
  for (std::size_t cap : {1u, 3u, 64u, 1000u, 4096u, 100000u}) {
    for (bool per_cpu : {false, true}) {
      quanta::detail::PoolClass c("test", "test::free", "test", 64, 16, cap, per_cpu);
      EXPECT_GE(c.magazine_size(), 1u);
      EXPECT_LE(c.magazine_size(), 64u);
      if (cap >= 4 * c.slot_count()) {
        EXPECT_LE(2 * c.magazine_size() * c.slot_count(), cap / 2);
      }
      if (per_cpu) {
        EXPECT_EQ(c.slot_count() & (c.slot_count() - 1), 0u) << "a power of two";
      } else {
        EXPECT_EQ(c.slot_count(), 1u);
      }
    }
  }
}

TEST(MemoryPool, ConcurrentKernelThreads) {
  MemoryPool pool(small_config(256, 64, true));
  std::atomic<long> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      unsigned rng = 99u + static_cast<unsigned>(t);
      std::vector<std::pair<unsigned char*, std::size_t>> mine;
      for (int i = 0; i < 20000; ++i) {
        rng = rng * 1103515245u + 12345u;
        if (mine.size() < 100 && (rng >> 20) % 2) {
          const std::size_t n = 1 + (rng >> 8) % 1500;
          auto* p = static_cast<unsigned char*>(pool.allocate(n));
          std::memset(p, t + 1, n);
          mine.emplace_back(p, n);
        } else if (!mine.empty()) {
          auto [p, n] = mine.back();
          mine.pop_back();
          if (p[0] != t + 1 || p[n - 1] != t + 1) ++errors;
          pool.deallocate(p, n);
        }
      }
      for (auto [p, n] : mine) pool.deallocate(p, n);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  MemoryPoolStats st = pool.stats();
  EXPECT_EQ(st.small.allocated + st.medium.allocated + st.large.allocated, 0u);
  expect_adds_up(st);
}

TEST(MemoryPool, UltsOnTwoWorkersFreeEachOthersBlocks) {
  MemoryPool pool(small_config(128, 32, true));
  {
    quanta::Runtime rt(quanta::test::config(2));
    std::vector<quanta::JoinHandle<std::vector<void*>>> producers;
    for (int u = 0; u < 4; ++u) {
      producers.push_back(rt.spawn([&pool, u] {
        std::vector<void*> out;
        for (int i = 0; i < 500; ++i) {
          void* p = pool.allocate(8 + (i % 3) * 400);
          std::memset(p, u, 8);
          out.push_back(p);
          if (i % 16 == 0) quanta::this_thread::yield();
        }
        return out;
      }));
    }
    std::vector<quanta::JoinHandle<int>> consumers;
    for (int u = 0; u < 4; ++u) {
      std::vector<void*> blocks = producers[static_cast<std::size_t>(u)].join();
      consumers.push_back(rt.spawn([&pool, u, blocks = std::move(blocks)] {
        int bad = 0;
        int i = 0;
        for (void* p : blocks) {
          if (static_cast<unsigned char*>(p)[0] != u) ++bad;
          pool.deallocate(p, 8 + (i++ % 3) * 400);
        }
        return bad;
      }));
    }
    for (auto& h : consumers) EXPECT_EQ(h.join(), 0);
  }
  MemoryPoolStats st = pool.stats();
  EXPECT_EQ(st.small.allocated + st.medium.allocated + st.large.allocated, 0u);
  EXPECT_EQ(st.small.allocations + st.medium.allocations, 4u * 500u);
  expect_adds_up(st);
}

#ifndef NDEBUG
// Builds without NDEBUG catch a size that selects another class.
TEST(MemoryPoolDeathTest, MismatchedSizeIsReported) {
  GTEST_FLAG_SET(death_test_style, "fast");
  EXPECT_DEATH(
      {
        MemoryPool pool;
        void* p = pool.allocate(16);
        pool.deallocate(p, 512);
      },
      "allocated from the small class .* selects the medium class");
  EXPECT_DEATH(
      {
        MemoryPool pool;
        void* p = pool.allocate(600);
        pool.deallocate(p, 10);
      },
      "allocated from the medium class .* selects the small class");
  EXPECT_DEATH(
      {
        MemoryPool pool;
        void* p = pool.allocate(16);
        pool.deallocate(p, 100000);
      },
      "allocated from the small class .* selects the large");
  EXPECT_DEATH(
      {
        MemoryPool pool;
        auto* p = static_cast<char*>(pool.allocate(64));
        pool.deallocate(p + 16, 64);
      },
      "points inside a block");
}

TEST(MemoryPoolDeathTest, DestroyedWithBlocksInUseIsReported) {
  GTEST_FLAG_SET(death_test_style, "fast");
  EXPECT_DEATH(
      {
        MemoryPool pool;
        (void)pool.allocate(100);
      },
      "MemoryPool destroyed while 1 blocks of its medium class");
}
#endif

#ifdef QUANTA_ASAN
TEST(MemoryPoolDeathTest, DoubleFreeIsReportedUnderAsan) {
  GTEST_FLAG_SET(death_test_style, "fast");
  EXPECT_DEATH(
      {
        MemoryPool pool;
        void* p = pool.allocate(16);
        pool.deallocate(p, 16);
        pool.deallocate(p, 16);
      },
      "already free");
}

TEST(MemoryPoolDeathTest, UseAfterFreeIsReportedUnderAsan) {
  GTEST_FLAG_SET(death_test_style, "fast");
  EXPECT_DEATH(
      {
        MemoryPool pool;
        auto* p = static_cast<volatile char*>(pool.allocate(16));
        pool.deallocate(const_cast<char*>(p), 16);
        p[0] = 1;
      },
      "use-after-poison");
}
#endif

}  // namespace
