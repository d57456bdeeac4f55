// quanta — the stack directory (stack_directory.hpp).
#include "stack_directory.hpp"

#include <new>

namespace quanta::detail {

StackDirectory& StackDirectory::instance() noexcept {
  static StackDirectory d;
  return d;
}

std::uint32_t StackDirectory::acquire() noexcept {
  std::lock_guard lk(mu_);
  if (!free_.empty()) {
    const std::uint32_t slot = free_.back();
    free_.pop_back();
    return slot;
  }
  if (used_ == kChunks * kChunkSlots) return kNoStackSlot;
  const std::uint32_t c = used_ / kChunkSlots;
  if (!chunks_[c].load(std::memory_order_relaxed)) {
    auto* chunk = new (std::nothrow) std::atomic<Ult*>[kChunkSlots];
    if (!chunk) return kNoStackSlot;
    for (std::uint32_t i = 0; i < kChunkSlots; ++i) chunk[i].store(nullptr, std::memory_order_relaxed);
    chunks_[c].store(chunk, std::memory_order_release);
  }
  return used_++;
}

void StackDirectory::release(std::uint32_t slot) noexcept {
  if (slot == kNoStackSlot) return;
  std::lock_guard lk(mu_);
  chunks_[slot / kChunkSlots].load(std::memory_order_relaxed)[slot % kChunkSlots].store(
      nullptr, std::memory_order_relaxed);
  try {
    free_.push_back(slot);
  } catch (...) {
    // Out of memory: the slot is simply not reused.
  }
}

}  // namespace quanta::detail
