// quanta — LockFreeQueue<T>: an unbounded multi-producer, multi-consumer
// queue (moodycamel::ConcurrentQueue underneath), usable from ULTs of any
// runtime and from kernel threads at once. Nothing ever waits: a dequeue from
// an empty queue returns nothing rather than blocking.
//
// Which operation may run concurrently with which:
//
// | operation                                        | concurrently with                        |
// |--------------------------------------------------|------------------------------------------|
// | enqueue, try_enqueue, the bulk forms, fast_enqueue | any operation but the destructor        |
// | try_dequeue, try_dequeue_bulk, fast_dequeue      | any operation but the destructor         |
// | size_approx                                      | any operation but the destructor         |
// | destructor                                       | nothing                                  |
//
// Order: the queue is a set of FIFO sub-queues, one per producer, where a
// producer is a kernel thread (a worker's thread for a ULT). Items enqueued
// one after the other by one kernel thread come out in that order; items of
// different producers have no order among themselves, and the queue as a
// whole is not linearizable (a dequeue may find nothing while an item that
// was enqueued before it started sits in a sub-queue it looked at earlier).
// A ULT that moves to another worker between two enqueues (a park, or a
// preemption in a preemptive runtime) becomes another producer: its items
// keep their order only if it cannot migrate (MigrationPolicy::Prohibited).
//
// Every operation runs with preemption off (a ULT is never switched out in
// the middle of one, which would let another ULT of its worker reach the
// same sub-queue) and never parks. Enqueues may allocate memory (blocks of
// the sub-queues, and the boxes of large items below); try_enqueue never
// grows the queue.
//
// Storage: a T that is trivially copyable and no larger than a pointer
// (integers, pointers, small PODs) is stored in the queue's slot itself;
// any other T is moved into a heap box per item.
#pragma once
#include <cstddef>
#include <cstring>
#include <iterator>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

namespace quanta {

namespace detail {

// The type-erased queue of pointer-sized slots (runtime/lockfree/).
class LfQueueCore {
 public:
  explicit LfQueueCore(std::size_t initial_capacity);
  ~LfQueueCore();
  LfQueueCore(const LfQueueCore&) = delete;
  LfQueueCore& operator=(const LfQueueCore&) = delete;

  // false: no memory (enqueue) or no room without allocating (try_enqueue).
  bool enqueue(void* slot) noexcept;
  bool try_enqueue(void* slot) noexcept;
  bool enqueue_bulk(void* const* slots, std::size_t n) noexcept;
  bool try_enqueue_bulk(void* const* slots, std::size_t n) noexcept;
  bool try_dequeue(void*& slot) noexcept;
  std::size_t try_dequeue_bulk(void** slots, std::size_t max) noexcept;
  std::size_t size_approx() const noexcept;

 private:
  void* q_;
};

}  // namespace detail

template <class T>
class LockFreeQueue {
  static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_array_v<T>,
                "quanta::LockFreeQueue<T>: T must be a non-const object type");
  static_assert(std::is_nothrow_destructible_v<T>, "quanta::LockFreeQueue<T>: ~T() must not throw");
  static_assert(std::is_move_constructible_v<T>, "quanta::LockFreeQueue<T>: T must be movable");

 public:
  // True when items are stored in the slot (no allocation per item).
  static constexpr bool kInline = std::is_trivially_copyable_v<T> && sizeof(T) <= sizeof(void*) &&
                                  alignof(T) <= alignof(void*);

  // Room for about `initial_capacity` items before the first enqueue has to
  // allocate (0: the library's default, a few hundred).
  explicit LockFreeQueue(std::size_t initial_capacity = 0) : core_(initial_capacity) {}
  // Destroys the items still queued. Nothing else may use the queue.
  ~LockFreeQueue() {
    if constexpr (!kInline) {
      void* s;
      while (core_.try_dequeue(s)) delete static_cast<T*>(s);
    }
  }
  LockFreeQueue(const LockFreeQueue&) = delete;
  LockFreeQueue& operator=(const LockFreeQueue&) = delete;

  // Adds an item, growing the queue if needed. Throws std::bad_alloc (the
  // queue unchanged) when memory runs out, or what T's constructor throws.
  void enqueue(const T& v) { put(box(v)); }
  void enqueue(T&& v) { put(box(std::move(v))); }

  // Adds an item only if there is room without growing the queue (a boxed T
  // still allocates its box); false when there is none, with the queue
  // unchanged and `v` still holding its value (the rvalue form of a boxed T
  // needs T to be move-assignable, to give the value back).
  bool try_enqueue(const T& v) { return try_put(box(v)); }
  bool try_enqueue(T&& v) {
    if constexpr (kInline) {
      return try_put(box(v));
    } else {
      std::unique_ptr<T> b(new T(std::move(v)));
      if (core_.try_enqueue(b.get())) {
        b.release();
        return true;
      }
      v = std::move(*b);  // give it back
      return false;
    }
  }

  // Adds `n` items read from `first` (copied; use std::make_move_iterator to
  // move), all or none: throws std::bad_alloc with none added.
  template <class It>
  void enqueue_bulk(It first, std::size_t n) {
    if (!bulk(first, n, false)) throw std::bad_alloc();
  }
  // The same without growing the queue; false with none added.
  template <class It>
  bool try_enqueue_bulk(It first, std::size_t n) {
    return bulk(first, n, true);
  }

  // Takes an item: the oldest of one producer's items (see the order above).
  // Empty when every sub-queue looked empty as it was checked.
  std::optional<T> try_dequeue() {
    void* s;
    if (!core_.try_dequeue(s)) return std::nullopt;
    return std::optional<T>(unbox(s));
  }
  bool try_dequeue(T& out) {
    void* s;
    if (!core_.try_dequeue(s)) return false;
    out = unbox(s);
    return true;
  }

  // Takes up to `max` items, written to `out`; returns how many.
  template <class OutIt>
  std::size_t try_dequeue_bulk(OutIt out, std::size_t max) {
    void* buf[kChunk];
    std::size_t got = 0;
    while (got < max) {
      const std::size_t want = max - got < kChunk ? max - got : kChunk;
      const std::size_t n = core_.try_dequeue_bulk(buf, want);
      for (std::size_t i = 0; i < n; ++i) {
        *out = unbox(buf[i]);
        ++out;
      }
      got += n;
      if (n < want) break;
    }
    return got;
  }

  // The names the tuning guide uses: enqueue and try_dequeue.
  void fast_enqueue(const T& v) { enqueue(v); }
  void fast_enqueue(T&& v) { enqueue(std::move(v)); }
  std::optional<T> fast_dequeue() { return try_dequeue(); }
  bool fast_dequeue(T& out) { return try_dequeue(out); }

  // The number of items, exact only while nobody enqueues or dequeues.
  std::size_t size_approx() const noexcept { return core_.size_approx(); }

 private:
  static constexpr std::size_t kChunk = 64;

  template <class U>
  static void* box(U&& v) {
    if constexpr (kInline) {
      const T t(std::forward<U>(v));
      void* s = nullptr;
      std::memcpy(static_cast<void*>(&s), static_cast<const void*>(&t), sizeof(T));
      return s;
    } else {
      return new T(std::forward<U>(v));
    }
  }
  static void drop(void* s) noexcept {
    if constexpr (!kInline) delete static_cast<T*>(s);
  }
  static T unbox(void* s) {
    if constexpr (kInline) {
      alignas(T) unsigned char bytes[sizeof(T)];
      std::memcpy(bytes, static_cast<const void*>(&s), sizeof(T));
      return *std::launder(reinterpret_cast<T*>(bytes));  // trivially copyable: an implicit object
    } else {
      std::unique_ptr<T> b(static_cast<T*>(s));
      return T(std::move(*b));
    }
  }
  void put(void* s) {
    if (!core_.enqueue(s)) {
      drop(s);
      throw std::bad_alloc();
    }
  }
  bool try_put(void* s) {
    if (core_.try_enqueue(s)) return true;
    drop(s);
    return false;
  }
  template <class It>
  bool bulk(It first, std::size_t n, bool no_alloc) {
    void* small[kChunk];
    std::unique_ptr<void*[]> large;
    void** slots = small;
    if (n > kChunk) {
      large.reset(new void*[n]);
      slots = large.get();
    }
    std::size_t made = 0;
    try {
      for (; made < n; ++made, ++first) slots[made] = box(*first);
    } catch (...) {
      for (std::size_t i = 0; i < made; ++i) drop(slots[i]);
      throw;
    }
    if (no_alloc ? core_.try_enqueue_bulk(slots, n) : core_.enqueue_bulk(slots, n)) return true;
    for (std::size_t i = 0; i < n; ++i) drop(slots[i]);
    return false;
  }

  detail::LfQueueCore core_;
};

}  // namespace quanta
