// quanta — LockFreeStack<T>: an unbounded multi-producer, multi-consumer
// LIFO (a Treiber stack), usable from ULTs of any runtime and from kernel
// threads at once. Nothing ever waits: popping an empty stack returns nothing.
//
// Which operation may run concurrently with which:
//
// | operation               | concurrently with                        |
// |-------------------------|------------------------------------------|
// | push, emplace           | any operation but the destructor         |
// | try_pop                 | any operation but the destructor         |
// | empty                   | any operation but the destructor         |
// | destructor              | nothing                                  |
//
// push and try_pop are linearizable: each takes effect at one successful
// compare-and-swap of the top, so every item is popped at most once and, in
// the absence of concurrent pushes, in LIFO order. A preempted ULT holds
// nothing, so other threads always make progress (lock-free, not wait-free).
//
// ABA and memory safety without double-width CAS (which RISC-V lacks) and
// without hazard pointers: items live in nodes addressed by 32-bit indices
// into chunks that the stack allocates as it grows (64, 128, 256, ...
// nodes) and frees only in its destructor. The top of the stack and the list
// of free nodes are 64-bit words holding an index and a 32-bit tag that
// every successful CAS increments. A thread that read the top, then was
// delayed while the node was popped, reused and pushed again, finds a
// different tag and retries, so the stale successor it read is never
// installed; and since no node's memory is ever returned while the stack
// lives, reading a node that was popped meanwhile reads valid memory (its
// `next` field is atomic). The tag would have to wrap (2^32 successful
// operations on one word while one thread is stopped between its read and
// its CAS) for the ABA problem to come back.
//
// Memory: the stack keeps the nodes of its largest size until destroyed.
// At most 2^32 - 64 items at once.
#pragma once
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace quanta {

template <class T>
class LockFreeStack {
  static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_array_v<T>,
                "quanta::LockFreeStack<T>: T must be a non-const object type");
  static_assert(std::is_nothrow_destructible_v<T>, "quanta::LockFreeStack<T>: ~T() must not throw");
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
                "quanta::LockFreeStack needs a lock-free 64-bit compare-and-swap");

 public:
  LockFreeStack() noexcept = default;
  // Destroys the items still on the stack and frees every node. Nothing
  // else may use the stack.
  ~LockFreeStack() {
    for (std::uint32_t i = index_of(top_.load(std::memory_order_acquire)); i != kNil;) {
      Node& n = node(i);
      i = n.next.load(std::memory_order_relaxed);
      n.item()->~T();
    }
    for (auto& c : chunks_) delete[] c.load(std::memory_order_acquire);
  }
  LockFreeStack(const LockFreeStack&) = delete;
  LockFreeStack& operator=(const LockFreeStack&) = delete;

  // Puts an item on top. Throws std::bad_alloc when a new chunk of nodes
  // cannot be allocated, std::length_error past 2^32 - 64 items, or what T's
  // constructor throws; the stack is then unchanged.
  void push(const T& v) { emplace(v); }
  void push(T&& v) { emplace(std::move(v)); }
  template <class... Args>
  void emplace(Args&&... args) {
    const std::uint32_t i = take_node();
    Node& n = node(i);
    try {
      ::new (static_cast<void*>(n.storage)) T(std::forward<Args>(args)...);
    } catch (...) {
      push_index(free_, i);
      throw;
    }
    push_index(top_, i);
  }

  // Takes the top item; empty when the stack was empty.
  std::optional<T> try_pop() {
    const std::uint32_t i = pop_index(top_);
    if (i == kNil) return std::nullopt;
    Node& n = node(i);
    // The node is ours until it goes back to the free list.
    struct Recycle {
      LockFreeStack* s;
      Node& n;
      std::uint32_t i;
      ~Recycle() {
        n.item()->~T();
        s->push_index(s->free_, i);
      }
    } recycle{this, n, i};
    return std::optional<T>(std::move(*n.item()));
  }

  // True when the stack was empty at the moment of the check.
  bool empty() const noexcept { return index_of(top_.load(std::memory_order_acquire)) == kNil; }

 private:
  static constexpr std::uint32_t kNil = 0xFFFF'FFFF;
  static constexpr unsigned kFirstShift = 6;  // chunk c holds 64 << c nodes
  static constexpr unsigned kChunks = 26;     // 64 * (2^26 - 1) = 2^32 - 64 nodes in all
  static constexpr std::uint64_t kMaxNodes = (std::uint64_t{1} << (kFirstShift + kChunks)) -
                                             (std::uint64_t{1} << kFirstShift);

  struct Node {
    std::atomic<std::uint32_t> next{kNil};
    alignas(T) unsigned char storage[sizeof(T)];
    T* item() noexcept { return std::launder(reinterpret_cast<T*>(storage)); }
  };

  static std::uint64_t pack(std::uint32_t tag, std::uint32_t index) noexcept {
    return (std::uint64_t{tag} << 32) | index;
  }
  static std::uint32_t index_of(std::uint64_t w) noexcept { return static_cast<std::uint32_t>(w); }
  static std::uint32_t tag_of(std::uint64_t w) noexcept { return static_cast<std::uint32_t>(w >> 32); }

  // Index i is node i - first(c) of chunk c, with first(c) = 64 * (2^c - 1).
  static unsigned chunk_of(std::uint64_t i) noexcept {
    return static_cast<unsigned>(std::bit_width(i + (std::uint64_t{1} << kFirstShift))) - 1 -
           kFirstShift;
  }
  static std::uint64_t chunk_first(unsigned c) noexcept {
    return ((std::uint64_t{1} << c) - 1) << kFirstShift;
  }

  // Only for indices that were published (through a list, whose acquire
  // orders the chunk's publication before) or made by take_node.
  Node& node(std::uint32_t i) const noexcept {
    const unsigned c = chunk_of(i);
    return chunks_[c].load(std::memory_order_acquire)[i - chunk_first(c)];
  }

  // Pops an index off a tagged list; kNil when it is empty.
  std::uint32_t pop_index(std::atomic<std::uint64_t>& list) noexcept {
    std::uint64_t old = list.load(std::memory_order_acquire);
    for (;;) {
      const std::uint32_t i = index_of(old);
      if (i == kNil) return kNil;
      // Possibly stale if the node was popped meanwhile; the tag then
      // differs and the CAS fails.
      const std::uint32_t next = node(i).next.load(std::memory_order_relaxed);
      if (list.compare_exchange_weak(old, pack(tag_of(old) + 1, next), std::memory_order_acq_rel,
                                     std::memory_order_acquire))
        return i;
    }
  }

  // Pushes an index the caller owns; release publishes the node's contents.
  void push_index(std::atomic<std::uint64_t>& list, std::uint32_t i) noexcept {
    Node& n = node(i);
    std::uint64_t old = list.load(std::memory_order_relaxed);
    for (;;) {
      n.next.store(index_of(old), std::memory_order_relaxed);
      if (list.compare_exchange_weak(old, pack(tag_of(old) + 1, i), std::memory_order_release,
                                     std::memory_order_relaxed))
        return;
    }
  }

  // A node the caller owns: a free one, or one never used.
  std::uint32_t take_node() {
    const std::uint32_t f = pop_index(free_);
    if (f != kNil) return f;
    const std::uint64_t i = fresh_.fetch_add(1, std::memory_order_relaxed);
    if (i >= kMaxNodes) {
      fresh_.fetch_sub(1, std::memory_order_relaxed);
      throw std::length_error("quanta::LockFreeStack: more than 2^32 - 64 items");
    }
    const unsigned c = chunk_of(i);
    if (!chunks_[c].load(std::memory_order_acquire)) {
      Node* fresh = new Node[std::size_t{1} << (c + kFirstShift)];  // may throw
      Node* expected = nullptr;
      if (!chunks_[c].compare_exchange_strong(expected, fresh, std::memory_order_acq_rel,
                                              std::memory_order_acquire))
        delete[] fresh;  // another thread made it first
    }
    return static_cast<std::uint32_t>(i);
  }

  alignas(64) std::atomic<std::uint64_t> top_{pack(0, kNil)};
  alignas(64) std::atomic<std::uint64_t> free_{pack(0, kNil)};
  alignas(64) std::atomic<std::uint64_t> fresh_{0};  // indices handed out from chunks
  std::atomic<Node*> chunks_[kChunks] = {};
};

}  // namespace quanta
