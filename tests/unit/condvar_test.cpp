// quanta::CondVar with std::unique_lock<quanta::Mutex>: notify_one/notify_all
// wake parked ULTs and blocked kernel threads, timed waits time out (never
// early), and a notify_one that meets a waiter which has just timed out goes
// to the next waiter instead of being lost.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using quanta::CondVar;
using quanta::Mutex;
using quanta::Runtime;

TEST(CondVar, NotifyOneWakesAWaitingUlt) {
  Runtime rt(quanta::test::config(2));
  Mutex m;
  CondVar cv;
  bool ready = false;
  auto waiter = rt.spawn([&] {
    std::unique_lock lk(m);
    while (!ready) cv.wait(lk);
    return 7;
  });
  rt.spawn([&] {
      quanta::this_thread::sleep_for(2ms);
      std::lock_guard g(m);
      ready = true;
      cv.notify_one();
    }).join();
  EXPECT_EQ(waiter.join(), 7);
}

TEST(CondVar, ProducerAndConsumerUltsWithPredicates) {
  for (auto cfg : {quanta::test::round_robin(2), quanta::test::work_stealing(2)}) {
    Runtime rt(cfg);
    Mutex m;
    CondVar not_empty, not_full;
    std::deque<int> q;
    constexpr int kItems = 20000;
    auto consumer = rt.spawn([&] {
      long sum = 0;
      for (int i = 0; i < kItems; ++i) {
        std::unique_lock lk(m);
        not_empty.wait(lk, [&] { return !q.empty(); });
        sum += q.front();
        q.pop_front();
        not_full.notify_one();
      }
      return sum;
    });
    auto producer = rt.spawn([&] {
      for (int i = 1; i <= kItems; ++i) {
        std::unique_lock lk(m);
        not_full.wait(lk, [&] { return q.size() < 4; });
        q.push_back(i);
        not_empty.notify_one();
      }
    });
    producer.join();
    EXPECT_EQ(consumer.join(), long{kItems} * (kItems + 1) / 2);
  }
}

TEST(CondVar, NotifyAllWakesUltsAndKernelThreads) {
  Runtime rt(quanta::test::config(2));
  Mutex m;
  CondVar cv;
  bool go = false;
  std::atomic<int> waiting{0}, woke{0};
  auto wait_for_go = [&] {
    std::unique_lock lk(m);
    waiting.fetch_add(1);
    cv.wait(lk, [&] { return go; });
    woke.fetch_add(1);
  };
  std::vector<quanta::JoinHandle<void>> hs;
  for (int i = 0; i < 20; ++i) hs.push_back(rt.spawn(wait_for_go));
  std::vector<std::thread> ts;
  for (int i = 0; i < 3; ++i) ts.emplace_back(wait_for_go);
  ASSERT_TRUE(quanta::test::eventually([&] { return waiting.load() == 23; }));
  std::this_thread::sleep_for(2ms);
  EXPECT_EQ(woke.load(), 0);
  {
    std::lock_guard g(m);
    go = true;
  }
  cv.notify_all();  // from a kernel thread, without the mutex
  for (auto& h : hs) h.join();
  for (auto& t : ts) t.join();
  EXPECT_EQ(woke.load(), 23);
}

TEST(CondVar, AKernelThreadWaitsForAUlt) {
  Runtime rt(quanta::test::config(1));
  Mutex m;
  CondVar cv;
  int value = 0;
  auto h = rt.spawn([&] {
    quanta::this_thread::sleep_for(2ms);
    std::lock_guard g(m);
    value = 42;
    cv.notify_one();
  });
  {
    std::unique_lock lk(m);
    cv.wait(lk, [&] { return value != 0; });
    EXPECT_EQ(value, 42);
  }
  h.join();
}

TEST(CondVar, WaitForTimesOutNoEarlierThanAskedOnUltsAndKernelThreads) {
  Runtime rt(quanta::test::config(2));
  Mutex m;
  CondVar cv;
  auto timed_wait = [&] {
    std::unique_lock lk(m);
    const auto t0 = Clock::now();
    const std::cv_status st = cv.wait_for(lk, 3ms);
    EXPECT_TRUE(lk.owns_lock());
    return std::make_pair(st, Clock::now() - t0);
  };
  auto h = rt.spawn(timed_wait);
  auto [st_k, took_k] = timed_wait();
  auto [st_u, took_u] = h.join();
  EXPECT_EQ(st_u, std::cv_status::timeout);
  EXPECT_EQ(st_k, std::cv_status::timeout);
  EXPECT_GE(took_u, 3ms);
  EXPECT_GE(took_k, 3ms);
}

TEST(CondVar, WaitUntilAcceptsSteadyAndSystemClocks) {
  Runtime rt(quanta::test::config(1));
  Mutex m;
  CondVar cv;
  rt.spawn([&] {
      std::unique_lock lk(m);
      const auto steady_deadline = Clock::now() + 2ms;
      EXPECT_EQ(cv.wait_until(lk, steady_deadline), std::cv_status::timeout);
      EXPECT_GE(Clock::now(), steady_deadline);
      const auto t0 = Clock::now();
      EXPECT_EQ(cv.wait_until(lk, std::chrono::system_clock::now() + 2ms),
                std::cv_status::timeout);
      EXPECT_GE(Clock::now() - t0, 1ms);  // converted through steady_clock
      // Deadlines in the past time out at once, and still hold the lock.
      EXPECT_EQ(cv.wait_until(lk, Clock::now() - 1s), std::cv_status::timeout);
      EXPECT_EQ(cv.wait_for(lk, -5ms), std::cv_status::timeout);
      EXPECT_TRUE(lk.owns_lock());
    }).join();
}

TEST(CondVar, HugeTimeoutsMeanNoDeadlineAndNeverOverflow) {
  using quanta::detail::deadline_after;
  using quanta::detail::deadline_at;
  using quanta::detail::kNoDeadline;
  EXPECT_EQ(deadline_after(std::chrono::hours::max()), kNoDeadline);
  EXPECT_EQ(deadline_after(std::chrono::nanoseconds::max()), kNoDeadline);
  EXPECT_EQ(deadline_at(Clock::time_point::max()), kNoDeadline);
  EXPECT_EQ(deadline_at(std::chrono::system_clock::time_point::max()), kNoDeadline);
  const auto past_steady = deadline_at(Clock::time_point::min());
  const auto past_system = deadline_at(std::chrono::system_clock::time_point::min());
  const auto after = quanta::detail::steady_now_ns();
  EXPECT_LE(past_steady, after);
  EXPECT_LE(past_system, after);
  const auto now = quanta::detail::steady_now_ns();
  EXPECT_GE(deadline_after(1500us), now + 1'500'000);
  EXPECT_LT(deadline_after(1500us), now + 1'000'000'000);
  // Fractional durations round up, never down.
  EXPECT_GE(deadline_after(std::chrono::duration<double, std::milli>(0.0000001)), now + 1);
}

TEST(CondVar, PredicateOverloadsReportThePredicateAtTheDeadline) {
  Runtime rt(quanta::test::config(2));
  Mutex m;
  CondVar cv;
  bool flag = false;
  std::atomic<bool> first_done{false};
  auto h = rt.spawn([&] {
    std::unique_lock lk(m);
    const bool early = cv.wait_for(lk, 2ms, [&] { return flag; });  // nobody sets it yet
    first_done = true;
    const bool later = cv.wait_until(lk, Clock::now() + 10s, [&] { return flag; });
    return std::make_pair(early, later);
  });
  ASSERT_TRUE(quanta::test::eventually([&] { return first_done.load(); }));
  {
    std::lock_guard g(m);
    flag = true;
  }
  cv.notify_all();
  auto [early, later] = h.join();
  EXPECT_FALSE(early);
  EXPECT_TRUE(later);
}

TEST(CondVar, NotifiedBeforeTheDeadlineReportsNoTimeout) {
  Runtime rt(quanta::test::config(2));
  Mutex m;
  CondVar cv;
  std::atomic<bool> waiting{false};
  auto h = rt.spawn([&] {
    std::unique_lock lk(m);
    waiting = true;
    return cv.wait_for(lk, 20s);
  });
  ASSERT_TRUE(quanta::test::eventually([&] { return waiting.load(); }));
  {
    std::lock_guard g(m);  // free only once the waiter is queued and waiting
  }
  cv.notify_one();
  EXPECT_EQ(h.join(), std::cv_status::no_timeout);
}

TEST(CondVar, ANotifyOneThatMeetsATimedOutWaiterWakesTheNext) {
  // One round-robin worker makes the order deterministic. `quitter` waits
  // with a 1 ms timeout, `stayer` without one, `notifier` sleeps 5 ms at a
  // higher priority, and `busy` then holds the worker for 10 ms. When it
  // lets go, both timers have expired: quitter's fires first (timed out,
  // runnable, but still queued on the condition variable), then the
  // notifier's, and the notifier, of higher priority, runs first. Its
  // notify_one meets quitter at the head of the queue and must go to stayer.
  Runtime rt(quanta::test::round_robin(1));
  Mutex m;
  CondVar cv;
  std::cv_status quitter_status = std::cv_status::no_timeout;
  bool stayer_woke = false;
  std::vector<std::string> events;
  rt.spawn([&] {
      auto notifier = quanta::ThreadBuilder().priority(quanta::kDefaultPriority + 5).spawn([&] {
        quanta::this_thread::sleep_for(5ms);
        cv.notify_one();
        events.push_back("notified");
      });
      auto quitter = quanta::ThreadBuilder().spawn([&] {
        std::unique_lock lk(m);
        quitter_status = cv.wait_for(lk, 1ms);
        events.push_back("quitter returned");
      });
      auto stayer = quanta::ThreadBuilder().spawn([&] {
        std::unique_lock lk(m);
        cv.wait(lk);
        stayer_woke = true;
      });
      auto busy = quanta::ThreadBuilder().spawn([] {
        const auto until = Clock::now() + 10ms;
        while (Clock::now() < until) quanta::test::burn(1000);
      });
      busy.join();
      notifier.join();
      quitter.join();
      stayer.join();  // hangs if the notify_one was spent on quitter
    }).join();
  EXPECT_EQ(quitter_status, std::cv_status::timeout);
  EXPECT_TRUE(stayer_woke);
  EXPECT_EQ(events, (std::vector<std::string>{"notified", "quitter returned"}));
}

TEST(CondVar, WaitWithoutTheLockThrowsUsageError) {
  Mutex m;
  CondVar cv;
  std::unique_lock<Mutex> lk(m, std::defer_lock);
  try {
    cv.wait(lk);
    FAIL() << "no exception";
  } catch (const quanta::UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "quanta::CondVar::wait: the unique_lock does not own a mutex; expected a locked "
                 "std::unique_lock<quanta::Mutex>");
  }
  EXPECT_THROW(cv.wait_for(lk, 1ms), quanta::UsageError);
  EXPECT_THROW(cv.wait_until(lk, Clock::now()), quanta::UsageError);
}

TEST(CondVar, NotifyWithoutWaitersIsHarmless) {
  CondVar cv;
  cv.notify_one();
  cv.notify_all();
  SUCCEED();
}

}  // namespace
