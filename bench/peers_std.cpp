// std::thread peers.
#include <condition_variable>
#include <mutex>
#include <thread>

#include "cases.hpp"

namespace qbench {

Batch std_thread_handoff() {
  return [](std::uint64_t ops) {
    const std::uint64_t each = ops / 2;
    std::mutex m;
    std::condition_variable cv;
    int turn = 0;
    bool go = false;
    // Each player waits for its turn, passes it to the other, and repeats.
    auto player = [&](int me) {
      std::unique_lock lk(m);
      cv.wait(lk, [&] { return go; });
      for (std::uint64_t i = 0; i < each; ++i) {
        cv.wait(lk, [&] { return turn == me; });
        turn = 1 - me;
        cv.notify_one();
      }
    };
    std::thread a(player, 0);
    std::thread b(player, 1);
    const auto t0 = Clock::now();
    {
      std::lock_guard lk(m);
      go = true;
    }
    cv.notify_all();
    a.join();
    b.join();
    return Clock::now() - t0;
  };
}

Batch std_thread_spawn_join() {
  return [](std::uint64_t ops) {
    const auto t0 = Clock::now();
    for (std::uint64_t i = 0; i < ops; ++i) {
      std::thread t([] {});
      t.join();
    }
    return Clock::now() - t0;
  };
}

}  // namespace qbench
