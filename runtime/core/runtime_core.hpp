// quanta — what a Runtime is made of, shared by the runtime's internals.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/worker.hpp"
#include "quanta/config.hpp"
#include "quanta/runtime.hpp"
#include "sched/scheduler.hpp"

namespace quanta::detail {

struct RuntimeCore {
  Runtime* owner = nullptr;
  Config cfg;
  std::vector<std::unique_ptr<Worker>> workers;
  std::unique_ptr<Scheduler> sched;

  std::atomic<std::uint64_t> live{0};      // ULTs started and not yet finished
  std::atomic<std::uint32_t> draining{0};  // ~Runtime is waiting for live == 0
  std::atomic<std::uint32_t> drained{0};   // futex word ~Runtime waits on
  std::atomic<bool> stopping{false};       // workers may exit once idle

  // A ULT of this runtime finished its task.
  void ult_finished() noexcept {
    if (live.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
        draining.load(std::memory_order_seq_cst)) {
      drained.store(1, std::memory_order_seq_cst);
      futex_wake_drained();
    }
  }
  void futex_wake_drained() noexcept;
};

}  // namespace quanta::detail

namespace quanta {
struct Runtime::Impl : detail::RuntimeCore {};
}  // namespace quanta

namespace quanta::detail {

// Process-wide ULT ids; workers reserve them in blocks.
std::uint64_t reserve_ult_ids(std::uint64_t count) noexcept;

}  // namespace quanta::detail
