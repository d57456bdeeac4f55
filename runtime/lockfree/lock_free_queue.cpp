// quanta — LockFreeQueue<T>'s type-erased core: moodycamel::ConcurrentQueue
// of pointer-sized slots, kept out of the public headers (the package's
// header is not installed with quanta, and consumers need not have it).
//
// moodycamel's queue without producer tokens gives each kernel thread its
// own "implicit producer" sub-queue, which only that thread may enqueue to.
// Two ULTs of one worker share the worker's thread, so a ULT preempted in
// the middle of an enqueue would let the next ULT there enqueue to the same
// sub-queue concurrently. Every call therefore runs inside a RuntimeSection:
// not preempted, and never switching (none of them parks).
#include <concurrentqueue.h>

#include "core/no_preempt.hpp"
#include "quanta/lock_free_queue.hpp"

namespace quanta::detail {

namespace {
using Queue = moodycamel::ConcurrentQueue<void*>;
Queue& q(void* p) noexcept { return *static_cast<Queue*>(p); }
}  // namespace

LfQueueCore::LfQueueCore(std::size_t initial_capacity)
    : q_(initial_capacity ? new Queue(initial_capacity) : new Queue()) {}

LfQueueCore::~LfQueueCore() { delete static_cast<Queue*>(q_); }

bool LfQueueCore::enqueue(void* slot) noexcept {
  RuntimeSection section;
  return q(q_).enqueue(slot);
}

bool LfQueueCore::try_enqueue(void* slot) noexcept {
  RuntimeSection section;
  return q(q_).try_enqueue(slot);
}

bool LfQueueCore::enqueue_bulk(void* const* slots, std::size_t n) noexcept {
  RuntimeSection section;
  return q(q_).enqueue_bulk(slots, n);
}

bool LfQueueCore::try_enqueue_bulk(void* const* slots, std::size_t n) noexcept {
  RuntimeSection section;
  return q(q_).try_enqueue_bulk(slots, n);
}

bool LfQueueCore::try_dequeue(void*& slot) noexcept {
  RuntimeSection section;
  return q(q_).try_dequeue(slot);
}

std::size_t LfQueueCore::try_dequeue_bulk(void** slots, std::size_t max) noexcept {
  RuntimeSection section;
  return q(q_).try_dequeue_bulk(slots, max);
}

std::size_t LfQueueCore::size_approx() const noexcept { return q(q_).size_approx(); }

}  // namespace quanta::detail
