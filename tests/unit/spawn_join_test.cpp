// spawn → JoinHandle: results, exceptions, misuse, detach, ids, and joins from
// ULTs and from kernel threads.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>

#include "test_support.hpp"

namespace {

using quanta::JoinHandle;
using quanta::Runtime;
using quanta::UsageError;

struct Boom : std::runtime_error {
  explicit Boom(int v) : std::runtime_error("boom " + std::to_string(v)), value(v) {}
  int value;
};

// Every case on 1, 2 and 4 workers, with both schedulers.
class SpawnJoin : public ::testing::TestWithParam<std::tuple<unsigned, quanta::SchedulerKind>> {
 protected:
  static quanta::Config cfg() {
    quanta::Config c = quanta::test::config(std::get<0>(GetParam()));
    c.scheduler = std::get<1>(GetParam());
    return c;
  }
  Runtime rt{cfg()};
};

TEST_P(SpawnJoin, ReturnsTheValue) { EXPECT_EQ(rt.spawn([] { return 42; }).join(), 42); }

TEST_P(SpawnJoin, VoidAndMoveOnlyAndReferenceResults) {
  int ran = 0;
  rt.spawn([&] { ran = 1; }).join();
  EXPECT_EQ(ran, 1);
  auto p = rt.spawn([] { return std::make_unique<std::string>("moved"); }).join();
  EXPECT_EQ(*p, "moved");
  static int target = 9;
  int& r = rt.spawn([]() -> int& { return target; }).join();
  EXPECT_EQ(&r, &target);
}

TEST_P(SpawnJoin, ExceptionIsRethrownByJoin) {
  auto h = rt.spawn([]() -> int { throw Boom(7); });
  try {
    h.join();
    FAIL() << "join must rethrow";
  } catch (const Boom& b) {
    EXPECT_EQ(b.value, 7);
  }
  EXPECT_FALSE(h.joinable());
}

TEST_P(SpawnJoin, JoinTwiceIsAUsageError) {
  auto h = rt.spawn([] { return 1; });
  EXPECT_TRUE(h.joinable());
  EXPECT_EQ(h.join(), 1);
  EXPECT_FALSE(h.joinable());
  try {
    h.join();
    FAIL() << "second join must throw";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("empty"), std::string::npos) << e.what();
  }
}

TEST_P(SpawnJoin, JoinAfterDetachAndOnEmptyHandleAreUsageErrors) {
  auto h = rt.spawn([] { return 1; });
  h.detach();
  EXPECT_THROW(h.join(), UsageError);
  EXPECT_THROW(h.detach(), UsageError);
  JoinHandle<int> empty;
  EXPECT_FALSE(empty.joinable());
  EXPECT_EQ(empty.id(), 0u);
  EXPECT_THROW(empty.join(), UsageError);
}

TEST_P(SpawnJoin, MovedFromHandleIsEmpty) {
  auto a = rt.spawn([] { return 3; });
  JoinHandle<int> b = std::move(a);
  EXPECT_FALSE(a.joinable());
  EXPECT_THROW(a.join(), UsageError);
  EXPECT_EQ(b.join(), 3);
}

TEST_P(SpawnJoin, IdsAreUniqueNonZeroAndMatchThisThreadId) {
  std::vector<JoinHandle<std::uint64_t>> hs;
  for (int i = 0; i < 200; ++i) hs.push_back(rt.spawn([] { return quanta::this_thread::id(); }));
  std::set<std::uint64_t> seen;
  for (auto& h : hs) {
    std::uint64_t expected = h.id();
    EXPECT_NE(expected, 0u);
    EXPECT_EQ(h.join(), expected);
    EXPECT_TRUE(seen.insert(expected).second);
  }
  EXPECT_EQ(quanta::this_thread::id(), 0u) << "a kernel thread is not a ULT";
}

TEST_P(SpawnJoin, NestedSpawnJoinFromUlts) {
  // Each ULT spawns two children through ThreadBuilder without naming the runtime.
  std::function<long(int)> tree = [&](int depth) -> long {
    if (depth == 0) return 1;
    auto l = quanta::ThreadBuilder().spawn([&, depth] { return tree(depth - 1); });
    auto r = quanta::ThreadBuilder().name("right").spawn([&, depth] { return tree(depth - 1); });
    return l.join() + r.join();
  };
  EXPECT_EQ(rt.spawn([&] { return tree(10); }).join(), 1024);
}

TEST_P(SpawnJoin, JoinWaitsForAParkedTarget) {
  // The joiner parks while the target sleeps; the worker keeps running others.
  auto slow = rt.spawn([] {
    quanta::this_thread::sleep_for(std::chrono::milliseconds(20));
    return 5;
  });
  auto joiner = rt.spawn([&] { return slow.join() + 1; });
  std::atomic<int> others{0};
  auto busy = rt.spawn([&] {
    for (int i = 0; i < 100; ++i) {
      others.fetch_add(1);
      quanta::this_thread::yield();
    }
  });
  EXPECT_EQ(joiner.join(), 6);
  busy.join();
  EXPECT_EQ(others.load(), 100);
}

TEST_P(SpawnJoin, SpawnFromOtherKernelThreads) {
  std::atomic<long> sum{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) sum += rt.spawn([=] { return t * 1000 + i; }).join();
    });
  }
  for (auto& t : ts) t.join();
  long expected = 0;
  for (int t = 0; t < 4; ++t)
    for (int i = 0; i < 500; ++i) expected += t * 1000 + i;
  EXPECT_EQ(sum.load(), expected);
}

TEST_P(SpawnJoin, CurrentRuntime) {
  EXPECT_EQ(Runtime::current(), nullptr);
  EXPECT_EQ(rt.spawn([] { return Runtime::current(); }).join(), &rt);
}

INSTANTIATE_TEST_SUITE_P(
    Workers, SpawnJoin,
    ::testing::Combine(::testing::Values(1u, 2u, 4u),
                       ::testing::Values(quanta::SchedulerKind::RoundRobin,
                                         quanta::SchedulerKind::WorkStealing)),
    [](const auto& info) {
      return std::to_string(std::get<0>(info.param)) +
             (std::get<1>(info.param) == quanta::SchedulerKind::RoundRobin ? "_rr" : "_ws");
    });

TEST(SpawnJoinMisuse, SpawnWithoutRuntimeFromKernelThread) {
  try {
    quanta::ThreadBuilder().spawn([] {});
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("kernel thread"), std::string::npos) << e.what();
  }
}

TEST(SpawnJoinMisuse, SelfJoinIsAUsageError) {
  Runtime rt(quanta::test::config(1));
  // A ULT that is handed its own handle and joins it gets a UsageError (it
  // would otherwise wait for itself forever); the handle stays joinable.
  std::atomic<JoinHandle<std::string>*> mine{nullptr};
  JoinHandle<std::string> self = rt.spawn([&]() -> std::string {
    while (!mine.load()) quanta::this_thread::yield();
    try {
      mine.load()->join();
    } catch (const UsageError& e) {
      return e.what();
    }
    return "no error";
  });
  mine.store(&self);
  std::string what = self.join();
  EXPECT_NE(what.find("join itself"), std::string::npos) << what;
}

TEST(Detach, DetachedUltsFinishBeforeRuntimeIsDestroyed) {
  std::atomic<int> done{0};
  {
    Runtime rt(quanta::test::config(2));
    for (int i = 0; i < 1000; ++i) {
      rt.spawn([&] {
        quanta::this_thread::yield();
        done.fetch_add(1);
      });  // handle dropped: detached
    }
  }
  EXPECT_EQ(done.load(), 1000);
}

TEST(Detach, DetachedUltExceptionIsReported) {
  testing::internal::CaptureStderr();
  {
    Runtime rt(quanta::test::config(1));
    quanta::ThreadBuilder().name("thrower").spawn(rt, [] { throw Boom(3); }).detach();
  }
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("detached ULT"), std::string::npos) << err;
  EXPECT_NE(err.find("\"thrower\""), std::string::npos) << err;
  EXPECT_NE(err.find("boom 3"), std::string::npos) << err;
}

TEST(Detach, HandleMayOutliveItsRuntime) {
  JoinHandle<std::string> h;
  {
    Runtime rt(quanta::test::config(1));
    h = rt.spawn([] { return std::string("still here"); });
  }
  EXPECT_EQ(h.join(), "still here");
}

TEST(Runtimes, TwoRuntimesCoexistAndJoinAcross) {
  Runtime a(quanta::test::config(1));
  Runtime b(quanta::test::config(1));
  auto hb = b.spawn([] {
    quanta::this_thread::sleep_for(std::chrono::milliseconds(5));
    return 10;
  });
  // A ULT of runtime a joins a ULT of runtime b.
  EXPECT_EQ(a.spawn([&] { return hb.join() + 1; }).join(), 11);
}

}  // namespace
