// ObjectPool<T>: constructs with arguments, destroys, make_unique, a throwing
// constructor gives its block back, capacity is validated, exhaustion falls
// back to the system allocator, alignment, and objects destroyed on another
// worker than the one that created them.
#include <gtest/gtest.h>

#include <quanta/pool.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/sanitizer.hpp"
#include "test_support.hpp"

namespace {

using quanta::ConfigError;
using quanta::ObjectPool;
using quanta::PoolClassStats;

std::atomic<int> g_live{0};

struct Widget {
  Widget(int id, std::string name) : id(id), name(std::move(name)) { ++g_live; }
  Widget(const Widget&) = delete;
  ~Widget() { --g_live; }
  int id;
  std::string name;
  std::uint64_t payload[4] = {1, 2, 3, 4};
};

struct MaybeThrows {
  explicit MaybeThrows(bool fail) {
    if (fail) throw std::runtime_error("constructor failed");
  }
  long value = 42;
};

struct alignas(64) Aligned {
  char bytes[100];
};

struct Aggregate {
  int a;
  double b;
};

void expect_adds_up(const PoolClassStats& s) {
  EXPECT_EQ(s.allocated - s.fallback_allocated + s.cached + s.fresh, s.capacity);
}

TEST(ObjectPool, CreateConstructsWithArgumentsAndDestroyDestructs) {
  ObjectPool<Widget> pool(16);
  Widget* w = pool.create(7, std::string("seven"));
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->id, 7);
  EXPECT_EQ(w->name, "seven");
  EXPECT_EQ(w->payload[3], 4u);
  EXPECT_EQ(g_live.load(), 1);
  EXPECT_EQ(pool.stats().allocated, 1u);
  pool.destroy(w);
  EXPECT_EQ(g_live.load(), 0);
  EXPECT_EQ(pool.stats().allocated, 0u);
  pool.destroy(nullptr);  // no effect
}

TEST(ObjectPool, AggregatesAndDefaults) {
  ObjectPool<Aggregate> pool(4);
  Aggregate* a = pool.create(1, 2.5);
  EXPECT_EQ(a->a, 1);
  EXPECT_EQ(a->b, 2.5);
  Aggregate* z = pool.create();
  EXPECT_EQ(z->a, 0);  // value-initialised
  pool.destroy(a);
  pool.destroy(z);
}

TEST(ObjectPool, MakeUniqueReturnsTheObjectOnScopeExit) {
  ObjectPool<Widget> pool(8);
  {
    auto w = pool.make_unique(3, "three");
    EXPECT_EQ(w->name, "three");
    EXPECT_EQ(pool.stats().allocated, 1u);
    ObjectPool<Widget>::UniquePtr moved = std::move(w);
    EXPECT_EQ(moved->id, 3);
  }
  EXPECT_EQ(g_live.load(), 0);
  PoolClassStats st = pool.stats();
  EXPECT_EQ(st.allocated, 0u);
  EXPECT_EQ(st.cached, 1u);
  expect_adds_up(st);
}

TEST(ObjectPool, ThrowingConstructorFreesTheBlockAndPropagates) {
  ObjectPool<MaybeThrows> pool(4, /*per_cpu=*/false);
  EXPECT_THROW((void)pool.create(true), std::runtime_error);
  PoolClassStats st = pool.stats();
  EXPECT_EQ(st.allocated, 0u);
  EXPECT_EQ(st.cached, 1u);
  EXPECT_EQ(st.allocations, 1u);
  expect_adds_up(st);
  // The block is reused.
  MaybeThrows* ok = pool.create(false);
  EXPECT_EQ(ok->value, 42);
  EXPECT_EQ(pool.stats().cached, 0u);
  try {
    (void)pool.make_unique(true);
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "constructor failed");
  }
  EXPECT_EQ(pool.stats().allocated, 1u);
  pool.destroy(ok);
  EXPECT_EQ(pool.stats().allocated, 0u);

  // A fallback block is given back to the system the same way.
  ObjectPool<MaybeThrows> tiny(1, false);
  MaybeThrows* only = tiny.create(false);
  EXPECT_THROW((void)tiny.create(true), std::runtime_error);
  st = tiny.stats();
  EXPECT_EQ(st.fallbacks, 1u);
  EXPECT_EQ(st.fallback_allocated, 0u);
  EXPECT_EQ(st.allocated, 1u);
  tiny.destroy(only);
}

TEST(ObjectPool, CapacityIsValidated) {
  try {
    ObjectPool<Widget> pool(0);
    ADD_FAILURE() << "no ConfigError";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("ObjectPool capacity = 0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[1, 16777216]"), std::string::npos) << msg;
  }
  try {
    ObjectPool<Widget> pool(quanta::kMaxPoolCapacity + 1);
    ADD_FAILURE() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("capacity = 16777217"), std::string::npos) << e.what();
  }
  struct Huge {
    char bytes[std::size_t{1} << 30];
  };
  try {
    ObjectPool<Huge> pool(std::size_t{1} << 20);
    ADD_FAILURE() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("a pool may reserve"), std::string::npos) << e.what();
  }
  ObjectPool<char> largest(quanta::kMaxPoolCapacity);
  EXPECT_EQ(largest.stats().capacity, quanta::kMaxPoolCapacity);
}

TEST(ObjectPool, SizeClassIsSizeofRoundedToAlignment) {
  ObjectPool<char> c(2);
  EXPECT_EQ(c.stats().object_size, 8u);
  ObjectPool<Widget> w(2);
  EXPECT_EQ(w.stats().object_size, (sizeof(Widget) + 7) / 8 * 8);
  EXPECT_EQ(w.stats().capacity, 2u);
  ObjectPool<Aligned> a(2);
  EXPECT_EQ(a.stats().object_size, 128u);
}

TEST(ObjectPool, ExhaustionFallsBackAndIsCounted) {
  ObjectPool<Aligned> pool(3);
  std::vector<Aligned*> objs;
  for (int i = 0; i < 10; ++i) {
    Aligned* p = pool.create();
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 64, 0u) << i;
    p->bytes[0] = static_cast<char>(i);
    p->bytes[99] = static_cast<char>(i);
    objs.push_back(p);
  }
  PoolClassStats st = pool.stats();
  EXPECT_EQ(st.allocated, 10u);
  EXPECT_EQ(st.fallbacks, 7u);
  EXPECT_EQ(st.fallback_allocated, 7u);
  EXPECT_EQ(st.fresh, 0u);
  expect_adds_up(st);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(objs[static_cast<std::size_t>(i)]->bytes[99], static_cast<char>(i));
    pool.destroy(objs[static_cast<std::size_t>(i)]);
  }
  st = pool.stats();
  EXPECT_EQ(st.allocated, 0u);
  EXPECT_EQ(st.cached, 3u);
  expect_adds_up(st);
}

struct ThrowingDtor {
  ~ThrowingDtor() noexcept(false) {
    if (fail) throw std::runtime_error("destructor failed");
  }
  bool fail = false;
};

TEST(ObjectPool, ThrowingDestructorStillReturnsTheBlock) {
  ObjectPool<ThrowingDtor> pool(2);
  ThrowingDtor* p = pool.create();
  p->fail = true;
  EXPECT_THROW(pool.destroy(p), std::runtime_error);
  EXPECT_EQ(pool.stats().allocated, 0u);
}

TEST(ObjectPool, KernelThreadsShareOnePool) {
  ObjectPool<Widget> pool(64);
  std::vector<std::thread> ts;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      std::vector<ObjectPool<Widget>::UniquePtr> mine;
      for (int i = 0; i < 5000; ++i) {
        mine.push_back(pool.make_unique(t * 100000 + i, "w"));
        if (mine.size() > 40) {
          for (auto& w : mine)
            if (w->id / 100000 != t) ++bad;
          mine.clear();
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(pool.stats().allocated, 0u);
  EXPECT_EQ(g_live.load(), 0);
  expect_adds_up(pool.stats());
}

TEST(ObjectPool, DestroyedOnAnotherWorker) {
  ObjectPool<Widget> pool(256);
  int across = 0;
  {
    // No preemption: a ULT stays on the worker it started on, so the worker
    // index read at the start of each ULT holds for its whole run. Round-robin
    // deals spawns from this thread to both workers in turn.
    quanta::Runtime rt(quanta::test::round_robin(2));
    struct Batch {
      unsigned made_on;
      int tag;
      std::vector<Widget*> objs;
    };
    std::mutex mu;  // no preemption: never switched out while held
    std::vector<Batch> batches;
    std::vector<quanta::JoinHandle<void>> makers;
    for (int u = 0; u < 8; ++u) {
      makers.push_back(rt.spawn([&, u] {
        Batch b{quanta::test::worker_index(), u, {}};
        for (int i = 0; i < 50; ++i) b.objs.push_back(pool.create(u, std::to_string(i)));
        std::lock_guard lk(mu);
        batches.push_back(std::move(b));
      }));
    }
    for (auto& h : makers) h.join();
    std::set<unsigned> makers_on;
    for (auto& b : batches) makers_on.insert(b.made_on);
    EXPECT_EQ(makers_on.size(), 2u) << "makers ran on both workers";

    // Each breaker prefers a batch made on the other worker.
    std::vector<quanta::JoinHandle<std::pair<int, int>>> breakers;
    for (int k = 0; k < 8; ++k) {
      breakers.push_back(rt.spawn([&] {
        const unsigned me = quanta::test::worker_index();
        Batch b;
        {
          std::lock_guard lk(mu);
          auto it = std::find_if(batches.begin(), batches.end(),
                                 [&](const Batch& x) { return x.made_on != me; });
          if (it == batches.end()) it = batches.begin();
          b = std::move(*it);
          batches.erase(it);
        }
        int bad = 0;
        for (std::size_t i = 0; i < b.objs.size(); ++i)
          if (b.objs[i]->id != b.tag || b.objs[i]->name != std::to_string(i)) ++bad;
        for (Widget* w : b.objs) pool.destroy(w);
        return std::make_pair(bad, b.made_on != me ? 1 : 0);
      }));
    }
    for (auto& h : breakers) {
      auto [bad, crossed] = h.join();
      EXPECT_EQ(bad, 0);
      across += crossed;
    }
  }
  EXPECT_GT(across, 0);
  EXPECT_EQ(g_live.load(), 0);
  PoolClassStats st = pool.stats();
  EXPECT_EQ(st.allocated, 0u);
  EXPECT_EQ(st.allocations, 400u);
  expect_adds_up(st);
}

#ifndef NDEBUG
TEST(ObjectPoolDeathTest, DestroyedWithObjectsInUseIsReported) {
  GTEST_FLAG_SET(death_test_style, "fast");
  EXPECT_DEATH(
      {
        ObjectPool<Aggregate> pool(4);
        (void)pool.create(1, 2.0);
      },
      "ObjectPool destroyed while 1 blocks");
}
#endif

#ifdef QUANTA_ASAN
TEST(ObjectPoolDeathTest, DoubleDestroyIsReportedUnderAsan) {
  GTEST_FLAG_SET(death_test_style, "fast");
  EXPECT_DEATH(
      {
        ObjectPool<Aggregate> pool(4);
        Aggregate* a = pool.create(1, 2.0);
        pool.destroy(a);
        pool.destroy(a);
      },
      "ObjectPool::destroy.*already free");
}
#endif

}  // namespace
