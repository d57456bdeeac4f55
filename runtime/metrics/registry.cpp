// quanta — the live runtimes, and the rate of the cycle counter.
#include "metrics/registry.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "arch/cpu.hpp"
#include "core/clock.hpp"

namespace quanta::detail {
namespace {

struct TickBase {
  std::once_flag once;
  std::int64_t ns = 0;
  std::uint64_t ticks = 0;
  std::mutex mu;
  double fixed = 0;  // the rate once measured over >= 1 s
};

TickBase& tick_base() {
  static TickBase b;
  return b;
}

void note_tick_base() {
  TickBase& b = tick_base();
  std::call_once(b.once, [&] {
    b.ns = now_ns();
    b.ticks = arch::cycle_counter();
  });
}

}  // namespace

std::mutex& registry_mutex() {
  static std::mutex mu;
  return mu;
}

std::vector<RuntimeCore*>& registry() {
  static std::vector<RuntimeCore*> v;
  return v;
}

void register_runtime(RuntimeCore* rt) {
  note_tick_base();
  std::lock_guard lk(registry_mutex());
  registry().push_back(rt);
}

void unregister_runtime(RuntimeCore* rt) {
  std::lock_guard lk(registry_mutex());
  auto& v = registry();
  v.erase(std::remove(v.begin(), v.end(), rt), v.end());
}

double ticks_per_ns() {
  note_tick_base();
  TickBase& b = tick_base();
  std::lock_guard lk(b.mu);
  if (b.fixed > 0) return b.fixed;
  constexpr std::int64_t kMinSpan = 10'000'000;  // 10 ms
  std::int64_t span = now_ns() - b.ns;
  if (span < kMinSpan) {
    std::this_thread::sleep_for(std::chrono::nanoseconds(kMinSpan - span));
  }
  // Ticks, then time: a delay between the two reads only lowers the rate
  // by that delay over a span of >= 10 ms.
  const std::uint64_t t = arch::cycle_counter();
  span = now_ns() - b.ns;
  const double rate = static_cast<double>(t - b.ticks) / static_cast<double>(span);
  if (span >= 1'000'000'000 && rate > 0) b.fixed = rate;
  return rate > 0 ? rate : 1.0;
}

}  // namespace quanta::detail
