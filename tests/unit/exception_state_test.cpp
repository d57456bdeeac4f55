// The C++ runtime's per-thread exception state (exceptions being handled,
// exceptions in flight) travels with each ULT: a ULT switched out inside a
// catch block, while others throw and catch on the same worker, rethrows its
// own exception afterwards.
#include <gtest/gtest.h>

#include <exception>
#include <stdexcept>
#include <string>

#include "test_support.hpp"

namespace {

using quanta::Runtime;

TEST(ExceptionState, RethrowAfterYieldInsideCatch) {
  Runtime rt(quanta::test::config(1));
  auto thrower = [](std::string tag) {
    return [tag]() -> std::string {
      try {
        try {
          throw std::runtime_error(tag);
        } catch (...) {
          for (int i = 0; i < 20; ++i) quanta::this_thread::yield();
          throw;  // must rethrow *this* ULT's exception
        }
      } catch (const std::runtime_error& e) {
        return e.what();
      }
    };
  };
  std::vector<quanta::JoinHandle<std::string>> hs;
  for (int i = 0; i < 6; ++i) hs.push_back(rt.spawn(thrower("ult-" + std::to_string(i))));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(hs[i].join(), "ult-" + std::to_string(i));
}

TEST(ExceptionState, CurrentExceptionIsPerUlt) {
  Runtime rt(quanta::test::config(1));
  auto inside = rt.spawn([] {
    try {
      throw 5;
    } catch (int) {
      quanta::this_thread::yield();
      quanta::this_thread::sleep_for(std::chrono::milliseconds(2));
      return std::current_exception() != nullptr;
    }
  });
  auto outside = rt.spawn([] {
    quanta::this_thread::yield();
    return std::current_exception() == nullptr;  // not handling anything
  });
  EXPECT_TRUE(inside.join());
  EXPECT_TRUE(outside.join());
}

struct YieldsDuringUnwind {
  bool* saw;
  ~YieldsDuringUnwind() {
    quanta::this_thread::yield();
    *saw = std::uncaught_exceptions() == 1;
  }
};

TEST(ExceptionState, UncaughtExceptionsIsPerUlt) {
  Runtime rt(quanta::test::config(1));
  bool unwinding_saw_one = false;
  auto a = rt.spawn([&] {
    try {
      YieldsDuringUnwind guard{&unwinding_saw_one};
      throw std::logic_error("x");
    } catch (const std::logic_error&) {
    }
  });
  auto b = rt.spawn([] {
    quanta::this_thread::yield();
    return std::uncaught_exceptions();
  });
  a.join();
  EXPECT_EQ(b.join(), 0);
  EXPECT_TRUE(unwinding_saw_one);
}

}  // namespace
