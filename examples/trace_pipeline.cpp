// trace_pipeline: a small program to look at with QUANTA_TRACE.
//
//   QUANTA_TRACE=pipeline.json ./trace_pipeline
//
// then open pipeline.json at ui.perfetto.dev (docs/tracing.md). About a
// second of work on two workers (unless QUANTA_WORKERS says otherwise),
// with preemption on:
//   * a pipeline: "producer" -> channel -> "transform 0" and "transform 1"
//     -> channel -> "sink", each item costing a few milliseconds of CPU in
//     the transforms: ULTs park on full and empty channels and wake each
//     other, across workers;
//   * a fork-join tree ("fork-join", "split ...") whose 16 "leaf N" ULTs
//     compute for tens of milliseconds each without yielding, started a few
//     milliseconds before the rest so that the idle worker steals from it;
//     while the pipeline has work waiting, the leaves are preempted at the
//     time slice;
//   * a "ticker" that sleeps 25 ms at a time (timer wake-ups).
#include <quanta/quanta.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;

// Rounds of spin() per microsecond of this machine's CPU, measured once
// before the runtime starts.
double g_rounds_per_us = 1;

// One round of arithmetic, in the application's own code (so the runtime
// may preempt it).
std::uint64_t spin(std::uint64_t rounds) {
  std::uint64_t x = 1;
  for (std::uint64_t r = 0; r < rounds; ++r) {
    for (int i = 0; i < 256; ++i) x = x * 6364136223846793005u + 1442695040888963407u;
    asm volatile("" : "+r"(x));  // the work is done, whether its result is used or not
  }
  return x;
}

void calibrate() {
  const auto t0 = Clock::now();
  std::uint64_t rounds = 0;
  while (Clock::now() - t0 < std::chrono::milliseconds(20)) {
    spin(64);
    rounds += 64;
  }
  const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  g_rounds_per_us = static_cast<double>(rounds) / us;
}

// About `d` of CPU work without yielding: a ULT that is preempted takes
// longer than `d` to finish it.
std::uint64_t compute(std::chrono::microseconds d) {
  return spin(static_cast<std::uint64_t>(g_rounds_per_us * static_cast<double>(d.count())) + 1);
}

constexpr int kItems = 160;
constexpr auto kTransformCost = std::chrono::microseconds(4000);
constexpr int kLeaves = 16;
constexpr auto kLeafCost = std::chrono::milliseconds(60);

std::uint64_t fork_join(quanta::Runtime& rt, int first, int count) {
  if (count == 1) return compute(kLeafCost) & 1;
  const int half = count / 2;
  auto name = [](int a, int n) {
    return n == 1 ? "leaf " + std::to_string(a)
                  : "split " + std::to_string(a) + ".." + std::to_string(a + n - 1);
  };
  auto left = quanta::ThreadBuilder().name(name(first, half)).spawn(rt, [&rt, first, half] {
    return fork_join(rt, first, half);
  });
  auto right = quanta::ThreadBuilder()
                   .name(name(first + half, count - half))
                   .spawn(rt, [&rt, first, half, count] {
                     return fork_join(rt, first + half, count - half);
                   });
  return left.join() + right.join();
}

}  // namespace

int main() {
  try {
    quanta::Config cfg = quanta::Config::from_env();
    if (cfg.workers == 0) cfg.workers = 2;
    calibrate();
    quanta::Runtime rt(cfg);
    std::uint64_t checksum = 0;
    long sum = 0;
    std::atomic<bool> finished{false};
    const auto t0 = Clock::now();

    // The tree first, alone for a few milliseconds: the idle worker steals
    // half of it. Then the pipeline, which competes with the leaves.
    auto tree = quanta::ThreadBuilder().name("fork-join").spawn(rt, [&] {
      checksum = fork_join(rt, 0, kLeaves);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(5));

    quanta::Channel<int> raw(4), done(4);

    auto producer = quanta::ThreadBuilder().name("producer").spawn(rt, [&] {
      for (int i = 0; i < kItems; ++i) {
        compute(std::chrono::microseconds(100));
        raw.send(i);
      }
      raw.close();
    });
    quanta::WaitGroup transforms;
    transforms.add(2);
    for (int t = 0; t < 2; ++t) {
      quanta::ThreadBuilder().name("transform " + std::to_string(t)).spawn(rt, [&] {
        while (auto v = raw.recv()) {
          compute(kTransformCost);
          done.send(*v * 2);
        }
        transforms.done();
      }).detach();
    }
    auto closer = quanta::ThreadBuilder().name("closer").spawn(rt, [&] {
      transforms.wait();
      done.close();
    });
    auto sink = quanta::ThreadBuilder().name("sink").spawn(rt, [&] {
      while (auto v = done.recv()) {
        compute(std::chrono::microseconds(100));
        sum += *v;
      }
    });
    auto ticker = quanta::ThreadBuilder().name("ticker").spawn(rt, [&] {
      int ticks = 0;
      while (!finished.load(std::memory_order_relaxed)) {
        quanta::this_thread::sleep_for(std::chrono::milliseconds(25));
        ++ticks;
      }
      return ticks;
    });

    producer.join();
    closer.join();
    sink.join();
    tree.join();
    finished = true;
    const int ticks = ticker.join();
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("trace_pipeline: %d items (sum %ld), %d leaves (checksum %llu), %d ticks in "
                "%.2f s on %u workers\n",
                kItems, sum, kLeaves, static_cast<unsigned long long>(checksum), ticks, secs,
                rt.worker_count());
    if (!rt.config().trace_file.empty())
      std::printf("trace_pipeline: the timeline is written to %s when the runtime stops\n",
                  rt.config().trace_file.c_str());
    return sum == static_cast<long>(kItems) * (kItems - 1) ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "trace_pipeline: %s\n", e.what());
    return 2;
  }
}
