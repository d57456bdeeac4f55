// quanta::LockFreeQueue: FIFO per producer, bulk operations, items stored
// inline or boxed, destruction of what is left, use from ULTs and threads.
#include <gtest/gtest.h>

#include <quanta/lock_free_queue.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using quanta::LockFreeQueue;

static_assert(LockFreeQueue<int>::kInline);
static_assert(LockFreeQueue<void*>::kInline);
static_assert(!LockFreeQueue<std::string>::kInline);
static_assert(!LockFreeQueue<std::unique_ptr<int>>::kInline);

struct Tracked {
  static std::atomic<int> live;
  int v;
  explicit Tracked(int x) : v(x) { live.fetch_add(1); }
  Tracked(const Tracked& o) : v(o.v) { live.fetch_add(1); }
  Tracked(Tracked&& o) noexcept : v(o.v) { live.fetch_add(1); }
  Tracked& operator=(const Tracked&) = default;
  Tracked& operator=(Tracked&&) noexcept = default;
  ~Tracked() { live.fetch_sub(1); }
};
std::atomic<int> Tracked::live{0};

TEST(LockFreeQueue, OneProducerIsFifo) {
  LockFreeQueue<int> q;
  EXPECT_FALSE(q.try_dequeue().has_value());
  for (int i = 0; i < 1000; ++i) q.enqueue(i);
  EXPECT_EQ(q.size_approx(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    auto v = q.try_dequeue();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, i);
  }
  int out = -1;
  EXPECT_FALSE(q.try_dequeue(out));
  EXPECT_EQ(out, -1);
  EXPECT_EQ(q.size_approx(), 0u);
}

TEST(LockFreeQueue, BoxedItemsMoveOnlyAndStrings) {
  LockFreeQueue<std::unique_ptr<int>> q;
  q.enqueue(std::make_unique<int>(5));
  q.fast_enqueue(std::make_unique<int>(6));
  auto a = q.fast_dequeue();
  ASSERT_TRUE(a && *a);
  EXPECT_EQ(**a, 5);
  std::unique_ptr<int> b;
  EXPECT_TRUE(q.fast_dequeue(b));
  EXPECT_EQ(*b, 6);

  LockFreeQueue<std::string> s;
  const std::string lvalue(100, 'z');
  s.enqueue(lvalue);
  s.enqueue(std::string("short"));
  EXPECT_EQ(*s.try_dequeue(), lvalue);
  EXPECT_EQ(*s.try_dequeue(), "short");
}

TEST(LockFreeQueue, SmallTriviallyCopyableStructsInline) {
  struct Pair {
    std::int32_t a, b;
  };
  static_assert(LockFreeQueue<Pair>::kInline);
  LockFreeQueue<Pair> q;
  q.enqueue(Pair{1, -2});
  auto p = q.try_dequeue();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->a, 1);
  EXPECT_EQ(p->b, -2);
}

TEST(LockFreeQueue, TryEnqueueNeverGrowsTheQueue) {
  LockFreeQueue<int> q(64);
  long accepted = 0;
  for (int i = 0; i < 100000 && q.try_enqueue(i); ++i) ++accepted;
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, 100000);  // it ran out of preallocated room
  q.enqueue(-1);                // enqueue grows it
  EXPECT_EQ(q.size_approx(), static_cast<std::size_t>(accepted + 1));

  LockFreeQueue<std::string> s(1);
  std::string v = "kept";
  while (s.try_enqueue(std::string("x"))) {
  }
  EXPECT_FALSE(s.try_enqueue(std::move(v)));
  EXPECT_EQ(v, "kept");  // given back when refused
}

TEST(LockFreeQueue, Bulk) {
  LockFreeQueue<int> q;
  std::vector<int> in(300);
  for (int i = 0; i < 300; ++i) in[i] = i;
  q.enqueue_bulk(in.begin(), in.size());
  std::vector<int> out;
  std::size_t n = q.try_dequeue_bulk(std::back_inserter(out), 250);
  EXPECT_EQ(n, 250u);
  for (int i = 0; i < 250; ++i) EXPECT_EQ(out[i], i);
  out.clear();
  while (q.try_dequeue_bulk(std::back_inserter(out), 1000) != 0) {
  }
  ASSERT_GE(out.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(out[i], 250 + i);

  LockFreeQueue<int> pre(256);  // room for these without growing
  EXPECT_TRUE(pre.try_enqueue_bulk(in.begin(), 100));
  std::vector<int> back(100, -1);
  EXPECT_EQ(pre.try_dequeue_bulk(back.begin(), 100), 100u);
  EXPECT_EQ(back[99], 99);

  LockFreeQueue<std::string> s;
  std::vector<std::string> words = {"a", "bb", "ccc"};
  s.enqueue_bulk(std::make_move_iterator(words.begin()), words.size());
  std::string got[3];
  EXPECT_EQ(s.try_dequeue_bulk(got, 3), 3u);
  EXPECT_EQ(got[0], "a");
  EXPECT_EQ(got[2], "ccc");
}

TEST(LockFreeQueue, DestructorDestroysWhatIsLeft) {
  Tracked::live.store(0);
  {
    LockFreeQueue<Tracked> q;
    for (int i = 0; i < 100; ++i) q.enqueue(Tracked(i));
    EXPECT_EQ(Tracked::live.load(), 100);
    auto one = q.try_dequeue();
    EXPECT_EQ(one->v, 0);
    EXPECT_EQ(Tracked::live.load(), 100);
  }
  EXPECT_EQ(Tracked::live.load(), 0);
}

// Per-producer FIFO across ULTs that cannot migrate and a kernel thread.
TEST(LockFreeQueue, UltsAndKernelThreadsMixed) {
  quanta::Runtime rt(quanta::test::config(2));
  LockFreeQueue<std::uint64_t> q;
  constexpr std::uint64_t kPer = 20000;
  std::vector<quanta::JoinHandle<void>> hs;
  for (std::uint64_t p = 0; p < 4; ++p) {
    hs.push_back(quanta::ThreadBuilder()
                     .migration(quanta::MigrationPolicy::Prohibited)
                     .spawn(rt, [&q, p] {
                       for (std::uint64_t i = 0; i < kPer; ++i) q.enqueue((p << 32) | i);
                     }));
  }
  std::thread k([&] {
    for (std::uint64_t i = 0; i < kPer; ++i) q.enqueue((std::uint64_t{4} << 32) | i);
  });
  std::vector<std::uint64_t> next(5, 0);
  std::uint64_t got = 0;
  while (got < 5 * kPer) {
    if (auto v = q.try_dequeue()) {
      const std::uint64_t p = *v >> 32, i = *v & 0xffffffffu;
      ASSERT_LT(p, 5u);
      // Workers' ULTs share a producer with the other ULTs of their worker,
      // but each ULT's own items stay in order.
      EXPECT_GE(i, next[p]);
      next[p] = i + 1;
      ++got;
    }
  }
  for (auto& h : hs) h.join();
  k.join();
  EXPECT_FALSE(q.try_dequeue().has_value());
}

}  // namespace
