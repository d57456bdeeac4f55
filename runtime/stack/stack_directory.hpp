// quanta — the stack directory: which ULT lives on each mapped stack.
//
// It lets ThreadMetrics::for_thread find a ULT by id without a registry on
// the spawn path. Every stack gets a slot when it is mapped (pool stacks keep
// theirs for good, as they are never unmapped; dedicated stacks give theirs
// back when unmapped). A spawn publishes its control block in its stack's
// slot with one store and the release of the ULT clears it with another: no
// lock and no allocation per ULT, as Go's allgs grows only when a new g is
// allocated, not when one is reused.
//
// Readers scan the slots under the directory's mutex. A control block they
// find may be released and its stack reused while they read it; the memory
// stays mapped (pool stacks are never unmapped; a dedicated stack is unmapped
// only after its slot is released, which waits for the mutex), and ULT ids
// are never reused, so a reader validates what it read by checking, after
// reading, that the slot still holds the block and the block still has the id.
#pragma once
#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

namespace quanta::detail {

struct Ult;

inline constexpr std::uint32_t kNoStackSlot = ~std::uint32_t{0};

class StackDirectory {
 public:
  static StackDirectory& instance() noexcept;

  // A free slot, or kNoStackSlot when the directory is full or its memory
  // cannot be had (the ULTs on that stack are then not found by id).
  std::uint32_t acquire() noexcept;
  // Gives a slot back; its stack is about to be unmapped. Waits for readers.
  void release(std::uint32_t slot) noexcept;

  // Publishes (u) or clears (nullptr) the ULT living on the stack of `slot`.
  void publish(std::uint32_t slot, Ult* u) noexcept {
    if (slot == kNoStackSlot) return;
    chunks_[slot / kChunkSlots].load(std::memory_order_acquire)[slot % kChunkSlots].store(
        u, std::memory_order_release);
  }

  // Calls fn(u) for every published ULT, under the directory's mutex, until
  // fn returns true; returns whether one did.
  template <class F>
  bool scan(F&& fn) {
    std::lock_guard lk(mu_);
    for (std::uint32_t c = 0; c * kChunkSlots < used_; ++c) {
      std::atomic<Ult*>* chunk = chunks_[c].load(std::memory_order_acquire);
      const std::uint32_t n = used_ - c * kChunkSlots < kChunkSlots ? used_ - c * kChunkSlots
                                                                     : kChunkSlots;
      for (std::uint32_t i = 0; i < n; ++i) {
        Ult* u = chunk[i].load(std::memory_order_acquire);
        if (u && fn(u)) return true;
      }
    }
    return false;
  }
  // Whether `slot` still holds u (a reader's validation).
  bool holds(std::uint32_t slot, const Ult* u) const noexcept {
    return slot != kNoStackSlot &&
           chunks_[slot / kChunkSlots].load(std::memory_order_acquire)[slot % kChunkSlots].load(
               std::memory_order_acquire) == u;
  }

  static constexpr std::uint32_t kChunkSlots = 4096;
  static constexpr std::uint32_t kChunks = 4096;  // 16 Mi stacks

 private:
  StackDirectory() = default;
  std::mutex mu_;
  std::uint32_t used_ = 0;           // slots ever handed out (high-water mark)
  std::vector<std::uint32_t> free_;  // released slots
  std::atomic<std::atomic<Ult*>*> chunks_[kChunks] = {};
};

}  // namespace quanta::detail
