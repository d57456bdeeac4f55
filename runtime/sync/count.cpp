// quanta — WaitGroup and Latch slow paths: a count and the callers waiting
// for it to reach 0.
//
// CountCore::word = count << 1 | kCountWaiters, the bit set (under the
// queue's lock) by the first waiter while the count is above 0. Whoever moves
// the count to 0 with the bit set wakes everyone queued and clears the bit. A
// waiter sets the bit with a CAS from the count it saw, under the lock, so
// either the update that reaches 0 sees the bit or the waiter sees 0.
#include <string>

#include "core/no_preempt.hpp"
#include "quanta/error.hpp"
#include "quanta/latch.hpp"
#include "quanta/wait_group.hpp"
#include "sync/wait.hpp"

namespace quanta::detail {
namespace {

[[noreturn]] void bad_update(CountOp op, std::int64_t arg, std::int64_t count) {
  const std::string a = std::to_string(arg), c = std::to_string(count);
  switch (op) {
    case CountOp::WaitGroupAdd:
      if (arg < 0) {
        throw UsageError("quanta::WaitGroup::add(" + a + "): the counter is " + c +
                         " and would drop below 0; expected no more done() than add()ed tasks");
      }
      throw UsageError("quanta::WaitGroup::add(" + a + "): the counter is " + c +
                       " and would exceed " + std::to_string(kCountMax));
    case CountOp::WaitGroupDone:
      throw UsageError(
          "quanta::WaitGroup::done(): the counter is already 0; expected one done() per "
          "add()ed task");
    case CountOp::LatchCountDown:
      if (arg < 0) throw UsageError("quanta::Latch::count_down(" + a + "): expected n >= 0");
      throw UsageError("quanta::Latch::count_down(" + a + "): only " + c +
                       " remain; expected n <= the count");
  }
  throw UsageError("quanta: bad count update");
}

}  // namespace

void latch_check(std::int64_t expected) {
  if (expected < 0 || expected > kCountMax) {
    throw ConfigError("quanta::Latch: expected count " + std::to_string(expected) +
                      " is outside the accepted range [0, " + std::to_string(kCountMax) + "]");
  }
}

void count_add_slow(CountCore& c, std::int64_t arg, CountOp op) {
  if (op == CountOp::LatchCountDown && arg < 0) bad_update(op, arg, 0);
  const std::int64_t delta = op == CountOp::LatchCountDown ? -arg : arg;
  std::uint64_t x = c.word.load(std::memory_order_relaxed);
  for (;;) {
    const auto n = static_cast<std::int64_t>(x >> 1);
    if (delta < -n || delta > kCountMax - n) bad_update(op, arg, n);
    const std::uint64_t next = x + 2 * static_cast<std::uint64_t>(delta);
    if (c.word.compare_exchange_weak(x, next, std::memory_order_acq_rel,
                                     std::memory_order_relaxed)) {
      if ((next >> 1) == 0 && (next & kCountWaiters)) count_wake_all(c);
      return;
    }
  }
}

void count_wake_all(CountCore& c) noexcept {
  RuntimeSection section;
  WakeList wl;
  {
    QueueLock lk(c.q);
    while (Waiter* w = pop_front(c.q)) claim(w, wl);
    c.word.fetch_and(~kCountWaiters, std::memory_order_relaxed);
  }
  wl.wake_all();
}

void count_wait_slow(CountCore& c) noexcept {
  RuntimeSection section;
  Waiter w(section.ult());
  {
    QueueLock lk(c.q);
    std::uint64_t x = c.word.load(std::memory_order_acquire);
    for (;;) {
      if ((x >> 1) == 0) return;
      if ((x & kCountWaiters) ||
          c.word.compare_exchange_weak(x, x | kCountWaiters, std::memory_order_acquire,
                                       std::memory_order_acquire))
        break;
    }
    push_back(c.q, &w);
  }
  // Woken when the count reached 0. A WaitGroup reused at once (add() before
  // this waiter ran) may be above 0 again: that round has ended for us all
  // the same.
  await(w);
}

}  // namespace quanta::detail
