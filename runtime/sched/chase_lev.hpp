// quanta — a worker's work-stealing deque: the Chase–Lev deque on a bounded
// ring, with the memory orderings of
//
//   N. M. Lê, A. Pop, A. Cohen, F. Zappa Nardelli, "Correct and Efficient
//   Work-Stealing for Weak Memory Models", PPoPP 2013 (figure 1, the C11 code),
//
// and the overflow and batch-steal helpers of Go's per-P run queue
// (runqputslow, runqgrab in src/runtime/proc.go), adapted to it.
//
// The algorithm. Items live in slots [top, bottom) of a ring of `capacity`
// slots (a power of two); index i is in slot i & (capacity - 1). The owner
// pushes and pops at `bottom` (LIFO); thieves take the item at `top` (FIFO) by
// a CAS of `top` from t to t + 1. `top` only ever grows, and only by a CAS.
// `bottom` is written only by the owner, never by an RMW. The owner pops
// without any RMW — it moves `bottom` down, then (after a seq_cst fence) reads
// `top` — except for the last item, for which it races the thieves with the
// same CAS of `top`. There is no growth: when the ring is full, push returns
// false and the owner moves the oldest half out with pop_half_for_overflow
// (to a global queue, as Go's runqputslow does).
//
// Who may call what, and what may run concurrently with what ("-": may run
// concurrently, no synchronisation needed; "X": must not overlap — they are
// all owner operations, so the owner's thread serialises them):
//
//   [1] push                   owner only
//   [2] pop                    owner only
//   [3] pop_half_for_overflow  owner only
//   [4] steal                  any thread
//   [5] steal_batch, steal_batch_each   any thread (and, in the overload that fills
//                              another deque, the owner of that deque: on the
//                              destination it counts as [1])
//   [6] size_estimate, empty_estimate, capacity   any thread
//
//         [1] [2] [3] [4] [5] [6]
//   [1]    X   X   X   -   -   -
//   [2]    X   X   X   -   -   -
//   [3]    X   X   X   -   -   -
//   [4]    -   -   -   -   -   -
//   [5]    -   -   -   -   -   -
//   [6]    -   -   -   -   -   -
//
// Outcomes. push fails only when the ring was full at some point during the
// call (it may have been freed a moment later by a thief). pop returns nullptr
// only when the deque was empty or a thief took the last item. steal says
// which of three things happened: Success (it has the oldest item), Empty
// (nothing to take when it looked), or Abort (it lost the CAS on `top` to
// another thief or to the owner taking the last item; the deque may still
// hold items, and trying again may succeed). Every item pushed is returned
// exactly once, by exactly one of pop, steal, steal_batch or
// pop_half_for_overflow.
//
// steal_batch is repeated single steals, not one CAS over several items.
// Go's runqgrab claims n items with one CAS of the head because in Go every
// consumer, the owner included, takes from the head with a CAS. Here the owner
// takes any index i above `top` with plain stores, after reading `top` < i,
// and leaves no trace in `top`. A thief that read (t, b) and then claims
// [t, t + n) with one CAS t -> t + n, n >= 2, can therefore succeed after the
// owner popped t + 1 .. t + n - 1 (it read `top` == t, correctly) — and
// re-reading `bottom` before or after the CAS cannot detect it, because the
// owner can push again in between and bring `bottom` back to where it was:
//
//     thief                                owner
//     reads top == 0, bottom == 4,
//     slots 0 and 1: will claim [0, 2)
//                                          pops 3, 2, 1 (each sees top == 0,
//                                          below the index: no CAS), pushes
//                                          three new items (bottom == 4)
//     re-reads bottom == 4;
//     CAS top 0 -> 2 succeeds
//
// The old item 1 is now both popped and stolen, and the new item at index 1
// is below `top`, lost (tests/stress/chase_lev_stress_test.cpp fails on this
// variant). Only index `top` itself is claimed by a CAS on both sides, so one
// CAS can safely claim one item. A correct multi-item claim needs the owner
// to pop with a CAS whenever its index lies in a range a thief may claim,
// with that range kept in the same word as `top` (Hendler and Shavit's
// steal-half deque); that changes the owner's pop path and the orderings of
// Lê et al., so it is not done here. Each single steal in a batch is Lê et
// al.'s steal, and the batch size is half, rounded up, of what the first
// successful steal saw.
//
// ABA. A thief's CAS compares `top` with the value it read; `top` never
// decreases and is a 64-bit count of items taken from the top end, which at
// one per nanosecond wraps after 292 years, so an equal value means nothing
// was taken in between. `bottom` is never the target of a CAS. Indices are
// signed (std::int64_t): pop computes bottom - 1 before it knows whether the
// deque is empty, and with unsigned indices (size_t, as printed in the paper)
// that wraps to the maximum when bottom == 0 and the empty test t <= b passes.
//
// Slot reuse. A thief may read a slot while the owner overwrites it: the
// owner reuses the slot of index i for index i + capacity once it has read
// `top` > i, while a slow thief that read `top` == i may still be about to
// read the slot. Its CAS of `top` from i then fails, so the value is dropped;
// the slots are std::atomic<T> (relaxed) so that this race is defined.
//
// T is a pointer type (quanta::detail::Ult*); nullptr is not a valid item.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

#include "arch/cpu.hpp"
#include "quanta/error.hpp"

#if defined(__SANITIZE_THREAD__)
#define QUANTA_CHASE_LEV_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define QUANTA_CHASE_LEV_TSAN 1
#endif
#endif

namespace quanta::detail {

// The outcome of one steal attempt.
enum class Steal : std::uint8_t {
  Empty,    // nothing to take when the thief looked
  Abort,    // lost the race for the top item; the deque may still hold items
  Success,  // took the oldest item
};

// The failure ordering of every CAS of `top`. Lê et al. use relaxed: a failed
// CAS publishes nothing and the caller uses nothing it read. GCC for RISC-V
// (12.2 checked) takes the ordering of its whole LR/SC sequence from the
// failure ordering: compare_exchange_strong(seq_cst, relaxed) becomes
// `lr.d; sc.d.aq`, without the release half, so a thief's relaxed read of a
// slot could be performed after its CAS became visible and the owner had
// reused the slot. With seq_cst for both it becomes
// `fence iorw,ow; lr.d.aq; sc.d.aq`. Clang for RISC-V (`lr.d.aqrl;
// sc.d.aqrl`), and GCC and Clang for x86_64 (lock cmpxchg) and aarch64
// (__aarch64_cas8_acq_rel), give the same code for both failure orderings.
inline constexpr std::memory_order kCasFailure =
#if defined(__riscv) && defined(__GNUC__) && !defined(__clang__)
    std::memory_order_seq_cst;
#else
    std::memory_order_relaxed;
#endif

// The ordering of push's store of `bottom`. Lê et al. publish the slot with a
// release fence and a relaxed store; ThreadSanitizer does not model fences
// (GCC says so with -Wtsan), so it would not see the slot and what the owner
// wrote before push as published, and would report the thief's reads of them
// as races. Under TSan the store is also release; the fences stay, since they
// are what orders the code that actually runs.
#ifdef QUANTA_CHASE_LEV_TSAN
inline constexpr std::memory_order kBottomPublish = std::memory_order_release;
#else
inline constexpr std::memory_order kBottomPublish = std::memory_order_relaxed;
#endif

template <class T>
struct Stolen {
  Steal status;
  T item;  // the item on Success, nullptr otherwise
};

template <class T>
class ChaseLevDeque {
  static_assert(std::is_pointer_v<T>, "ChaseLevDeque holds pointers; nullptr means none");
  static_assert(std::atomic<T>::is_always_lock_free);
  static_assert(std::atomic<std::int64_t>::is_always_lock_free);

 public:
  // capacity: a power of two, at least 2.
  explicit ChaseLevDeque(std::size_t capacity)
      : slots_(make_slots(capacity)), mask_(static_cast<std::int64_t>(capacity) - 1) {}

  ChaseLevDeque(const ChaseLevDeque&) = delete;
  ChaseLevDeque& operator=(const ChaseLevDeque&) = delete;

  std::size_t capacity() const noexcept { return static_cast<std::size_t>(mask_) + 1; }

  // --- owner only -----------------------------------------------------------

  // Adds x at the bottom. False, and x not added, when the ring is full.
  [[nodiscard]] bool push(T x) noexcept {
    // relaxed: only this thread writes bottom_.
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);
    // acquire: pairs with the release half of the seq_cst CAS that moved top_
    // to t (a thief's steal, or this thread's pop / pop_half_for_overflow).
    // A thief reads slot i before its CAS from i to i + 1, so once we have
    // seen top_ > i, its read happens before the store below into the same
    // slot (index i + capacity): a thief whose CAS succeeded never sees the
    // new value.
    const std::int64_t t = top_.load(std::memory_order_acquire);
    if (b - t > mask_) return false;  // b - t == capacity: full
    // relaxed: published by the release fence below.
    slot(b).store(x, std::memory_order_relaxed);
    // release fence + relaxed store of bottom_: pairs with the acquire load of
    // bottom_ in steal. A thief that reads bottom_ > b sees this slot's new
    // value and everything this thread wrote before push (e.g. the saved
    // context of the ULT being queued).
    std::atomic_thread_fence(std::memory_order_release);
    bottom_.store(b + 1, kBottomPublish);  // relaxed, except under TSan
    return true;
  }

  // Takes the newest item (LIFO end). nullptr when the deque is empty or a
  // thief took the last item.
  T pop() noexcept {
    // relaxed: only this thread writes bottom_.
    const std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
    // relaxed store, ordered before the load of top_ by the fence: reserves
    // index b against thieves that look after it.
    bottom_.store(b, std::memory_order_relaxed);
    // seq_cst fence (store-load): pairs with the seq_cst fence in steal,
    // between its loads of top_ and bottom_. Of the two fences, the one first
    // in the single total order decides: if ours, the thief's load of bottom_
    // sees b or a value stored after this pop is done with index b, so it
    // does not take index b while this pop holds it; if the thief's, our load
    // of top_ below sees the value t the thief read or a later one (its
    // acquire load of top_ made the write of t happen before its fence), so
    // we never take the index t it claims without a CAS.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // relaxed: ordered by the fence above.
    std::int64_t t = top_.load(std::memory_order_relaxed);
    if (t > b) {
      // Empty: restore bottom_ (relaxed: nothing to publish; top_ == b + 1
      // and the deque stays empty).
      bottom_.store(b + 1, std::memory_order_relaxed);
      return nullptr;
    }
    // relaxed: this thread wrote the slot.
    T x = slot(b).load(std::memory_order_relaxed);
    if (t == b) {
      // The last item: thieves may be taking it with a CAS of top_ from t;
      // take it with the same CAS. seq_cst as in Lê et al.; its release half
      // pairs with the acquire loads of top_ in steal and push. On failure we
      // read nothing (kCasFailure).
      if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, kCasFailure)) {
        x = nullptr;
      }
      // relaxed: the deque is empty either way (top_ == b + 1 == bottom_).
      bottom_.store(b + 1, std::memory_order_relaxed);
    }
    return x;
  }

  // The largest number of items pop_half_for_overflow writes.
  std::size_t overflow_batch_max() const noexcept { return capacity() / 2; }

  // Takes the oldest half of the items (rounded up; capacity()/2 when the
  // ring is full) and writes them to out, oldest first; returns how many. out
  // must have room for overflow_batch_max() items. Called when push returned
  // false, to move work to a global queue (Go's runqputslow); the owner then
  // pushes again.
  //
  // One CAS of top_ claims all n items: thieves only ever claim the index
  // equal to top_, with a CAS of top_ from that index, and the owner (this
  // thread) is not popping at the same time, so if top_ still holds t, no one
  // has taken any of [t, t + n), and n <= bottom_ - t leaves the bottom end
  // untouched. A thief that lost the CAS retries and takes index t + n.
  std::size_t pop_half_for_overflow(T* out) noexcept {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);  // own variable
    // relaxed: validated by the CAS; the slots read below were written by
    // this thread.
    std::int64_t t = top_.load(std::memory_order_relaxed);
    for (;;) {
      const std::int64_t size = b - t;
      if (size <= 0) return 0;
      const std::int64_t n = size - size / 2;
      for (std::int64_t i = 0; i < n; ++i) out[i] = slot(t + i).load(std::memory_order_relaxed);
      // seq_cst as every CAS of top_ (Lê et al.); its release half pairs with
      // the acquire loads of top_ in steal. On failure t is reloaded
      // (kCasFailure; relaxed would do, as above) and thieves have taken some
      // items: recompute.
      if (top_.compare_exchange_strong(t, t + n, std::memory_order_seq_cst, kCasFailure)) {
        return static_cast<std::size_t>(n);
      }
      arch::cpu_relax();
    }
  }

  // --- any thread -----------------------------------------------------------

  // Tries once to take the oldest item (FIFO end).
  Stolen<T> steal() noexcept {
    std::int64_t seen;
    return steal_once(seen);
  }

  // Takes up to max items, oldest first, into out; returns how many. Takes at
  // most half, rounded up, of the items the first successful steal saw. Each
  // item is taken by one steal (see the header comment for why not one CAS).
  // A lost race before the first item is retried; after it, the batch ends.
  // So 0 means the deque was empty when this thief last looked.
  std::size_t steal_batch(T* out, std::size_t max) noexcept {
    return steal_batch_into(max, [out](std::size_t i, T x) noexcept { out[i] = x; });
  }

  // As above, pushing the items onto `into`, of which the caller must be the
  // owner (on `into` this is a sequence of pushes). Takes no more than `into`
  // has room for, so no push fails. `into` must not be *this.
  std::size_t steal_batch(ChaseLevDeque& into, std::size_t max) noexcept {
    if (&into == this) return 0;
    // Room in `into`, as its owner sees it: bottom_ is exact; a stale top_ is
    // lower than the real one (top_ only grows), so the room is never
    // overestimated. relaxed: only an estimate for our own pushes, which load
    // top_ again themselves.
    const std::int64_t used = into.bottom_.load(std::memory_order_relaxed) -
                              into.top_.load(std::memory_order_relaxed);
    const std::int64_t room = into.mask_ + 1 - used;
    if (room <= 0) return 0;
    if (max > static_cast<std::size_t>(room)) max = static_cast<std::size_t>(room);
    // The push cannot fail: at most `room` items are taken.
    return steal_batch_into(max, [&into](std::size_t, T x) noexcept {
      static_cast<void>(into.push(x));
    });
  }

  // As steal_batch, handing each item taken, oldest first, to sink(T)
  // (noexcept); returns how many.
  template <class Sink>
  std::size_t steal_batch_each(std::size_t max, Sink&& sink) noexcept {
    return steal_batch_into(max, [&sink](std::size_t, T x) noexcept { sink(x); });
  }

  // Items in the deque, as seen at some recent moment; may be stale by the
  // time the caller looks. relaxed: an estimate, ordered with nothing.
  std::size_t size_estimate() const noexcept {
    const std::int64_t t = top_.load(std::memory_order_relaxed);
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);
    // Between pop's decrement and restore, or from two loads at different
    // moments, b - t may lie outside [0, capacity].
    if (b <= t) return 0;
    if (b - t > mask_) return capacity();
    return static_cast<std::size_t>(b - t);
  }

  bool empty_estimate() const noexcept { return size_estimate() == 0; }

 private:
  static std::unique_ptr<std::atomic<T>[]> make_slots(std::size_t capacity) {
    if (capacity < 2 || (capacity & (capacity - 1)) != 0 ||
        capacity > (std::size_t{1} << 40)) {
      throw ConfigError("quanta: ChaseLevDeque capacity " + std::to_string(capacity) +
                        " is not a power of two in [2, 2^40]");
    }
    return std::make_unique<std::atomic<T>[]>(capacity);  // value-initialised: nullptr
  }

  std::atomic<T>& slot(std::int64_t i) const noexcept {
    return slots_[static_cast<std::size_t>(i & mask_)];  // i & mask_ is in [0, capacity)
  }

  // One steal (Lê et al.'s steal); `seen` is bottom_ - top_ as it looked.
  Stolen<T> steal_once(std::int64_t& seen) noexcept {
    // acquire: pairs with the release half of the seq_cst CAS that wrote t
    // (another thief's, or the owner's in pop / pop_half_for_overflow). That
    // write then happens before our fence, which is what lets pop's fence
    // argument conclude that the owner's later load of top_ sees t or later.
    std::int64_t t = top_.load(std::memory_order_acquire);
    // seq_cst fence: pairs with the one in pop (see there). Without it the
    // load of bottom_ below could see the value from before the owner's
    // decrement to b == t while the owner's load of top_ sees a value older
    // than t: the owner would take index t without a CAS, and we with ours.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // acquire: pairs with push's release fence; if b > t, slot t holds the
    // item pushed at index t (or a later value, in which case top_ has moved
    // and the CAS below fails).
    const std::int64_t b = bottom_.load(std::memory_order_acquire);
    seen = b - t;
    if (t >= b) return {Steal::Empty, nullptr};
    // relaxed: ordered after the acquire load of bottom_; may race with the
    // owner reusing the slot, and then the CAS fails (see "Slot reuse").
    T x = slot(t).load(std::memory_order_relaxed);
    // seq_cst CAS (Lê et al.): claims index t; on success its release half
    // pairs with the acquire loads of top_ in push (slot reuse) and steal.
    // On failure we return without reading anything (kCasFailure).
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, kCasFailure)) {
      return {Steal::Abort, nullptr};
    }
    return {Steal::Success, x};
  }

  template <class Sink>
  std::size_t steal_batch_into(std::size_t max, Sink&& sink) noexcept {
    std::size_t n = 0;
    std::size_t want = max;  // lowered to half of what the first success saw
    while (n < want) {
      std::int64_t seen;
      const Stolen<T> r = steal_once(seen);
      if (r.status == Steal::Empty) break;
      if (r.status == Steal::Abort) {
        if (n > 0) break;  // contended: keep what we have
        arch::cpu_relax();
        continue;
      }
      if (n == 0) {
        const auto half = static_cast<std::size_t>(seen - seen / 2);
        if (half < want) want = half;
      }
      sink(n, r.item);
      ++n;
    }
    return n;
  }

  // Read by everyone, written only by the constructor: a line of their own.
  alignas(arch::kDestructiveInterference) const std::unique_ptr<std::atomic<T>[]> slots_;
  const std::int64_t mask_;
  // Next index to steal; CAS by thieves and by the owner (last item, overflow).
  alignas(arch::kDestructiveInterference) std::atomic<std::int64_t> top_{0};
  // Next index to push; written only by the owner.
  alignas(arch::kDestructiveInterference) std::atomic<std::int64_t> bottom_{0};
};

}  // namespace quanta::detail
