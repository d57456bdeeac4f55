// quanta — the monotonic clock the runtime uses for deadlines.
#pragma once
#include <chrono>
#include <cstdint>

namespace quanta::detail {

// Nanoseconds of std::chrono::steady_clock (CLOCK_MONOTONIC, vDSO: no syscall).
inline std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace quanta::detail
