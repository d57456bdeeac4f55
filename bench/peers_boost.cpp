// Boost.Context and Boost.Fiber peers. The fiber cases run on the calling
// thread, whose own fiber scheduler Boost.Fiber creates on first use.
#include <boost/fiber/all.hpp>
#include <memory>

#include "cases.hpp"
#include "pingpong.hpp"

namespace qbench {

Batch boost_fcontext_same_site_switch() {
  auto pp = std::make_shared<FcontextSameSite>();
  return [pp](std::uint64_t ops) {
    const auto t0 = Clock::now();
    pp->run(ops);
    return Clock::now() - t0;
  };
}

Batch boost_fcontext_switch() {
  auto pp = std::make_shared<FcontextPingPong>();
  return [pp](std::uint64_t ops) {
    const std::uint64_t trips = ops / 2;
    const auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < trips; ++i) pp->round_trip();
    return Clock::now() - t0;
  };
}

Batch boost_fiber_yield() {
  return [](std::uint64_t ops) {
    const std::uint64_t each = ops / 2;
    auto body = [each] {
      for (std::uint64_t i = 0; i < each; ++i) boost::this_fiber::yield();
    };
    // The main fiber is parked in join while the two yielders alternate.
    const auto t0 = Clock::now();
    boost::fibers::fiber a(body);
    boost::fibers::fiber b(body);
    a.join();
    b.join();
    return Clock::now() - t0;
  };
}

Batch boost_fiber_spawn_join() {
  return [](std::uint64_t ops) {
    Clock::duration elapsed{};
    // The loop runs inside a fiber, as the quanta case runs inside a ULT.
    boost::fibers::fiber driver([&] {
      const auto t0 = Clock::now();
      for (std::uint64_t i = 0; i < ops; ++i) {
        boost::fibers::fiber f([] {});
        f.join();
      }
      elapsed = Clock::now() - t0;
    });
    driver.join();
    return elapsed;
  };
}

}  // namespace qbench
