// The Chase–Lev deque under concurrency: one owner pushes and pops at random
// (and moves half out with pop_half_for_overflow when the ring is full) while
// three thieves steal single items and batches, into buffers and into deques
// of their own, which they also steal from each other. Every item must come
// out exactly once, carrying the payload the owner wrote before pushing it
// (which checks that push publishes what precedes it).
//
// Nine rounds, 2e6 items in all: well under a second natively, a few seconds
// under qemu-user. QUANTA_CHASE_LEV_ITEMS=<n> sets the items per round.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "arch/cpu.hpp"
#include "sched/chase_lev.hpp"

namespace {

using quanta::detail::ChaseLevDeque;
using quanta::detail::Steal;

struct Item {
  std::uint64_t payload = 0;  // plain: written by the owner before push
  std::atomic<std::uint32_t> delivered{0};
};

using Deque = ChaseLevDeque<Item*>;

constexpr int kThieves = 3;

std::uint64_t expected_payload(std::size_t i, std::uint64_t seed) {
  return (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;
}

std::size_t items_per_round(std::size_t dflt) {
  if (const char* s = std::getenv("QUANTA_CHASE_LEV_ITEMS")) {
    const long long v = std::atoll(s);
    if (v > 0) return static_cast<std::size_t>(v);
  }
  return dflt;
}

struct Params {
  std::uint64_t seed;
  std::size_t items;
  std::size_t capacity;
  unsigned pop_percent;  // chance, after each push, that the owner pops 1-3 items
  bool overflow;         // when full: pop_half_for_overflow to the global list; else wait
};

struct Round {
  explicit Round(const Params& params)
      : p(params), items(new Item[params.items]), q(params.capacity) {
    for (int i = 0; i < kThieves; ++i) local.push_back(std::make_unique<Deque>(64));
  }

  const Params p;
  std::unique_ptr<Item[]> items;
  Deque q;
  std::vector<std::unique_ptr<Deque>> local;  // one per thief, owned by it
  std::atomic<int> ready{0};  // start gate: all threads running before the first push
  std::atomic<bool> owner_done{false};
  std::atomic<std::uint64_t> bad_payloads{0};
  std::atomic<std::uint64_t> delivered_total{0};
  std::mutex global_mu;  // the "global queue" that overflow goes to
  std::vector<Item*> global;

  // Per-thread counts of how items were taken, summed after the round.
  std::atomic<std::uint64_t> n_pop{0}, n_steal{0}, n_batch{0}, n_overflow{0}, n_abort{0},
      n_local{0};

  void deliver(Item* x, std::uint64_t& count) {
    const std::size_t i = static_cast<std::size_t>(x - items.get());
    if (x->payload != expected_payload(i, p.seed)) bad_payloads.fetch_add(1);
    x->delivered.fetch_add(1, std::memory_order_relaxed);
    ++count;
  }

  bool take_global(Item*& x) {
    std::lock_guard<std::mutex> lk(global_mu);
    if (global.empty()) return false;
    x = global.back();
    global.pop_back();
    return true;
  }

  void owner() {
    std::mt19937_64 rng(p.seed);
    std::uint64_t count = 0, pops = 0, overflowed = 0;
    std::vector<Item*> buf(q.overflow_batch_max());
    ready.fetch_add(1);
    while (ready.load() != kThieves + 1) std::this_thread::yield();
    for (std::size_t i = 0; i < p.items; ++i) {
      Item* x = &items[i];
      x->payload = expected_payload(i, p.seed);
      // A little work per item, so that the thieves keep up and the deque
      // stays in the range where the two ends meet.
      for (auto spin = rng() % 8; spin != 0; --spin) quanta::arch::cpu_relax();
      while (!q.push(x)) {
        if (p.overflow) {
          const std::size_t n = q.pop_half_for_overflow(buf.data());
          overflowed += n;
          std::lock_guard<std::mutex> lk(global_mu);
          global.insert(global.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        } else {
          std::this_thread::yield();  // wait for the thieves to make room
        }
      }
      if (p.pop_percent != 0 && rng() % 100 < p.pop_percent) {
        for (int k = static_cast<int>(rng() % 3); k >= 0; --k) {
          if (Item* y = q.pop()) {
            deliver(y, count);
            ++pops;
          }
        }
      }
    }
    if (p.pop_percent != 0) {
      while (Item* y = q.pop()) {
        deliver(y, count);
        ++pops;
      }
    }
    // release: a thief that sees this and then finds the deque empty has seen
    // the owner's last operation; nothing will be pushed after it.
    owner_done.store(true, std::memory_order_release);
    n_pop += pops;
    n_overflow += overflowed;
    delivered_total += count;
  }

  void thief(int self) {
    std::mt19937_64 rng(p.seed * 31 + static_cast<std::uint64_t>(self) + 1);
    Deque& mine = *local[static_cast<std::size_t>(self)];
    std::uint64_t count = 0, steals = 0, batched = 0, aborts = 0, local_steals = 0;
    Item* buf[64];
    ready.fetch_add(1);
    while (ready.load() != kThieves + 1) std::this_thread::yield();
    for (;;) {
      // acquire: pairs with the owner's release store (see there). Read before
      // the steal attempts, so that Empty after it means the round is over.
      const bool done = owner_done.load(std::memory_order_acquire);
      bool got = false;
      switch (rng() % 4) {
        case 0:
        case 1: {
          const auto r = q.steal();
          if (r.status == Steal::Success) {
            deliver(r.item, count);
            ++steals;
            got = true;
          } else if (r.status == Steal::Abort) {
            ++aborts;
            got = true;  // not necessarily empty: look again
          }
          break;
        }
        case 2: {
          const std::size_t n = q.steal_batch(buf, 1 + rng() % 64);
          for (std::size_t k = 0; k < n; ++k) deliver(buf[k], count);
          batched += n;
          got = n != 0;
          break;
        }
        case 3: {
          const std::size_t n = q.steal_batch(mine, 1 + rng() % 64);
          batched += n;
          got = n != 0;
          // Keep a few for a moment, so that the others can steal them from
          // `mine`, then run them from the bottom as a worker would.
          if (n != 0 && rng() % 2 == 0) std::this_thread::yield();
          while (Item* y = mine.pop()) deliver(y, count);
          break;
        }
      }
      // Work other thieves left in their own deques.
      const auto o = (static_cast<std::size_t>(self) + 1 + rng() % (kThieves - 1)) % kThieves;
      Deque& other = *local[o];
      const auto r = other.steal();
      if (r.status == Steal::Success) {
        deliver(r.item, count);
        ++local_steals;
        got = true;
      }
      Item* g;
      if (!got && take_global(g)) {
        deliver(g, count);
        got = true;
      }
      if (!got) {
        if (done) break;
        std::this_thread::yield();
      }
    }
    while (Item* y = mine.pop()) deliver(y, count);
    n_steal += steals;
    n_batch += batched;
    n_abort += aborts;
    n_local += local_steals;
    delivered_total += count;
  }

  void run() {
    std::vector<std::thread> ts;
    for (int t = 0; t < kThieves; ++t) ts.emplace_back([this, t] { thief(t); });
    owner();
    for (auto& t : ts) t.join();
    // What the thieves did not take from the global list.
    std::uint64_t count = 0;
    for (Item* g : global) deliver(g, count);
    global.clear();
    delivered_total += count;

    EXPECT_EQ(q.size_estimate(), 0u);
    EXPECT_EQ(bad_payloads.load(), 0u) << "items seen without the owner's writes";
    std::size_t lost = 0, duplicated = 0;
    for (std::size_t i = 0; i < p.items; ++i) {
      const std::uint32_t d = items[i].delivered.load(std::memory_order_relaxed);
      if (d == 0) ++lost;
      if (d > 1) ++duplicated;
    }
    EXPECT_EQ(lost, 0u) << "seed " << p.seed;
    EXPECT_EQ(duplicated, 0u) << "seed " << p.seed;
    EXPECT_EQ(delivered_total.load(), p.items);
    // Counts of items by how they left the owner's deque (the items taken
    // from the thieves' own deques were first counted in "batch").
    std::printf("seed %llu: %zu items, capacity %zu: pop %llu, steal %llu, batch %llu, "
                "overflow %llu; aborted steals %llu, steals from thieves' deques %llu\n",
                static_cast<unsigned long long>(p.seed), p.items, p.capacity,
                static_cast<unsigned long long>(n_pop.load()),
                static_cast<unsigned long long>(n_steal.load()),
                static_cast<unsigned long long>(n_batch.load()),
                static_cast<unsigned long long>(n_overflow.load()),
                static_cast<unsigned long long>(n_abort.load()),
                static_cast<unsigned long long>(n_local.load()));
  }
};

TEST(ChaseLevStress, OwnerPushesAndPopsWhileThievesSteal) {
  const std::size_t n = items_per_round(250000);
  for (std::uint64_t seed : {1ull, 2ull, 3ull, 0xC0FFEEull}) {
    Round r(Params{seed, n, 256, 30, true});
    r.run();
    if (HasFailure()) return;
  }
}

// A small ring keeps the deque near empty, so the owner and the thieves race
// for the last item often, and near full, so overflow runs often.
TEST(ChaseLevStress, SmallRingLastItemRaces) {
  const std::size_t n = items_per_round(200000);
  for (std::uint64_t seed : {11ull, 12ull, 13ull}) {
    Round r(Params{seed, n, 4, 60, true});
    r.run();
    if (HasFailure()) return;
  }
}

// The owner only pushes (waiting when the ring is full); thieves drain it.
TEST(ChaseLevStress, OwnerOnlyPushesThievesDrain) {
  const std::size_t n = items_per_round(200000);
  for (std::uint64_t seed : {21ull, 22ull}) {
    Round r(Params{seed, n, 64, 0, false});
    r.run();
    if (HasFailure()) return;
  }
}

}  // namespace
