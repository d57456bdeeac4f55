// quanta — a worker's local run queue: one FIFO per priority level and a
// bitmap of the non-empty levels, so picking the highest level is one
// count-leading-zeros. Owned by one worker; no synchronisation.
#pragma once
#include <cstddef>
#include <atomic>
#include <cstdint>

#include "core/ult.hpp"

namespace quanta::detail {

class RunQueue {
 public:
  static constexpr int kLevels = kMaxPriority + 1;
  static_assert(kLevels <= 32, "the level bitmap is 32 bits");

  bool empty() const noexcept { return mask() == 0; }
  std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }
  // Highest non-empty level; -1 when empty.
  int top_priority() const noexcept { return top_of(mask()); }
  // Any thread (the preemption monitor): the highest non-empty level as of
  // some recent moment.
  int top_priority_estimate() const noexcept { return top_of(mask()); }

  void push(Ult* u) noexcept {
    const int p = u->priority;
    u->next = nullptr;
    if (tail_[p]) {
      tail_[p]->next = u;
    } else {
      head_[p] = u;
      mask_.store(mask() | (1u << p), std::memory_order_relaxed);
    }
    tail_[p] = u;
    size_.store(size() + 1, std::memory_order_relaxed);
  }

  // The oldest ULT of the highest non-empty level, if that level is at least
  // min_priority; nullptr otherwise.
  Ult* pop(int min_priority = 0) noexcept {
    const int p = top_priority();
    if (p < min_priority) return nullptr;
    Ult* u = head_[p];
    head_[p] = u->next;
    if (!head_[p]) {
      tail_[p] = nullptr;
      mask_.store(mask() & ~(1u << p), std::memory_order_relaxed);
    }
    size_.store(size() - 1, std::memory_order_relaxed);
    u->next = nullptr;
    return u;
  }

 private:
  static int top_of(std::uint32_t m) noexcept { return m ? 31 - __builtin_clz(m) : -1; }
  // Written by the owner only (plain load + store); atomic so that the
  // preemption monitor may read it.
  std::uint32_t mask() const noexcept { return mask_.load(std::memory_order_relaxed); }
  std::atomic<std::uint32_t> mask_{0};
  std::atomic<std::size_t> size_{0};  // likewise, read by metrics
  Ult* head_[kLevels] = {};
  Ult* tail_[kLevels] = {};
};

// Multi-producer, single-consumer inbox of ULTs made runnable by other
// threads (a Treiber stack drained all at once by the owning worker).
//   push:       any thread, concurrently with everything
//   take_all:   the owning worker only
class Inbox {
 public:
  void push(Ult* u) noexcept {
    Ult* h = head_.load(std::memory_order_relaxed);
    do {
      u->next = h;
    } while (!head_.compare_exchange_weak(h, u, std::memory_order_seq_cst,
                                          std::memory_order_relaxed));
  }
  bool maybe_nonempty() const noexcept {
    return head_.load(std::memory_order_relaxed) != nullptr;
  }
  bool nonempty_seq_cst() const noexcept {
    return head_.load(std::memory_order_seq_cst) != nullptr;
  }
  // Everything pushed so far, oldest first.
  Ult* take_all() noexcept {
    Ult* h = head_.exchange(nullptr, std::memory_order_acquire);
    Ult* fifo = nullptr;
    while (h) {
      Ult* n = h->next;
      h->next = fifo;
      fifo = h;
      h = n;
    }
    return fifo;
  }

 private:
  std::atomic<Ult*> head_{nullptr};
};

}  // namespace quanta::detail
