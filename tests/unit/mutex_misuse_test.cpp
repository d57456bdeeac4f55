// quanta::Mutex misuse checks (QUANTA_SYNC_CHECKS, on in debug builds; forced
// on here): unlocking a mutex the caller does not hold, locking one it holds,
// destroying a locked one — each aborts with a message naming the primitive,
// the caller and the owner. And correct use, including a CondVar wait and a
// ULT that resumes on another worker, never trips them.
#undef QUANTA_SYNC_CHECKS
#define QUANTA_SYNC_CHECKS 1
#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using quanta::CondVar;
using quanta::Mutex;
using quanta::Runtime;

class MutexMisuseDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "fast"); }
};

TEST_F(MutexMisuseDeathTest, UnlockingAnUnlockedMutexAborts) {
  EXPECT_DEATH(
      {
        Mutex m;
        m.unlock();
      },
      "quanta::Mutex::unlock: called by kernel thread [0-9]+, but the mutex is held by nobody; "
      "expected unlock\\(\\) by the thread that locked it");
}

TEST_F(MutexMisuseDeathTest, UnlockingAMutexAnotherKernelThreadHoldsAborts) {
  EXPECT_DEATH(
      {
        Mutex m;
        std::thread([&] { m.lock(); }).join();
        m.unlock();
      },
      "quanta::Mutex::unlock: called by kernel thread [0-9]+, but the mutex is held by kernel "
      "thread [0-9]+");
}

TEST_F(MutexMisuseDeathTest, AUltUnlockingAMutexItDoesNotHoldAborts) {
  EXPECT_DEATH(
      {
        Mutex m;
        m.lock();
        Runtime rt(quanta::test::config(1));
        rt.spawn([&] { m.unlock(); }).join();
      },
      "quanta::Mutex::unlock: called by ULT [0-9]+, but the mutex is held by kernel thread");
}

TEST_F(MutexMisuseDeathTest, LockingAMutexTheCallerHoldsAborts) {
  EXPECT_DEATH(
      {
        Runtime rt(quanta::test::config(1));
        Mutex m;
        rt.spawn([&] {
            m.lock();
            m.lock();
          }).join();
      },
      "quanta::Mutex::lock: ULT [0-9]+ already holds this mutex; quanta::Mutex is not "
      "recursive");
}

TEST_F(MutexMisuseDeathTest, DestroyingALockedMutexAborts) {
  EXPECT_DEATH(
      {
        Runtime rt(quanta::test::config(1));
        rt.spawn([] {
            Mutex m;
            m.lock();
          }).join();
      },
      "quanta::Mutex: destroyed while locked \\(held by ULT [0-9]+\\); expected it to be "
      "unlocked first");
}

TEST(MutexChecks, CorrectUseNeverTripsThem) {
  // Preempted ULTs resume on the next worker, woken ones on their waker's:
  // the owner recorded is the ULT, wherever it runs.
  Runtime rt(quanta::test::preemptive(4, std::chrono::microseconds(100)));
  rt.impl().preempt_migrate_for_testing.store(true);
  Mutex m;
  CondVar cv;
  int turn = 0;
  long counter = 0;
  std::vector<quanta::JoinHandle<void>> hs;
  for (int id = 0; id < 4; ++id) {
    hs.push_back(rt.spawn([&, id] {
      for (int k = 0; k < 200; ++k) {
        std::unique_lock lk(m);
        cv.wait(lk, [&] { return turn == id; });  // the owner changes hands here
        quanta::test::burn(20000);                 // preempted while holding it
        ++counter;
        turn = (turn + 1) % 4;
        cv.notify_all();
        lk.unlock();
        quanta::this_thread::yield();  // may resume elsewhere
        if (m.try_lock()) m.unlock();
      }
    }));
  }
  std::thread kernel([&] {
    for (int k = 0; k < 1000; ++k) {
      std::lock_guard g(m);
      ++counter;
    }
  });
  for (auto& h : hs) h.join();
  kernel.join();
  EXPECT_EQ(counter, 4 * 200 + 1000);
}

}  // namespace
