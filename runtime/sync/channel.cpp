// quanta — Channel<T> and Select: everything but moving a T, which the
// header's ChanOps do for us.
//
// The design is Go's (runtime/chan.go): one lock per channel guarding a ring
// buffer and two FIFOs of waiters, senders and receivers. The lock is the
// spin lock of ChanCore::recvq (sendq's is unused), taken through QueueLock
// inside a RuntimeSection and never held across a switch.
//
//   send: closed -> fail; a receiver waits -> move the value straight into
//         its optional; room in the ring -> append; else queue and wait.
//   recv: a value in the ring -> take the oldest, and if a sender waits
//         (the ring was full) append its value, keeping FIFO order; no value
//         but a waiting sender (rendezvous) -> take its value directly;
//         closed -> report it; else queue and wait.
//
// Receivers wait only while the ring is empty and senders only while it is
// full, so at most one of the queues has live waiters. A waiter is served
// entirely by its counterpart under the lock (the value moved, the result
// written) and then released through the wait.hpp protocol: claim under the
// lock, notify after it. A sender that waits is therefore done once it is
// notified, and a send on a rendezvous channel returns only after a receiver
// has taken the value. close() claims every waiter with the result Closed; a
// claimed sender's value was not touched.
//
// Select. A select's waiting record (ChanWaiter::owner) holds the state and
// the result; it queues one node per case, each on its channel's queue, and
// a counterpart that pops a node claims the node's owner. Only the first
// claim of an owner may succeed (claim_owner accepts only kWaiting and
// kParked; the shared claim() assumes a waiter sits on one queue), so one
// case completes. A select takes the locks of all its channels, in address
// order and each once, for its poll of every case and for queueing its nodes,
// so that no value can arrive unseen between the two (Go does the same).
// This is the only place where queue locks nest; plain sends and receives
// take one, and so the address order is a total order of every nesting.
// After it is released, the select takes each channel's lock again on its
// own to unlink the nodes nobody popped. A node popped by a counterpart that
// failed to claim its owner is simply dropped (unlinked), as a timed-out
// waiter is: its owner finds it unlinked.
#include "quanta/channel.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <string>

#include "core/no_preempt.hpp"
#include "quanta/error.hpp"
#include "sync/wait.hpp"

namespace quanta::detail {
namespace {

enum : std::uint8_t { kResDone = 0, kResClosed = 1 };

// A queued sender or receiver, or one case of a waiting select.
struct ChanWaiter : Waiter {
  explicit ChanWaiter(Ult* u = nullptr, std::int64_t deadline = kNoDeadline) noexcept
      : Waiter(u, deadline) {}
  ChanWaiter* owner = this;  // holds the state: itself, or the select's record
  void* elem = nullptr;      // sender: the T to send; receiver: its std::optional<T>
  std::size_t index = 0;     // its case in a select
  // On the owner, written by the claimer between its claim and the notify step.
  std::size_t fired = 0;           // which node completed
  std::uint8_t result = kResDone;  // kResDone or kResClosed
};

ChanWaiter* as_chan(Waiter* w) noexcept { return static_cast<ChanWaiter*>(w); }

// claim() for owners that may have nodes on several queues: an owner that is
// already claimed (or notified, or timed out) is not claimed again.
bool claim_owner(ChanWaiter* owner, WakeList& wl) noexcept {
  std::uint32_t s = owner->state.load(std::memory_order_relaxed);
  do {
    if (s != kWaiting && s != kParked) return false;
  } while (!owner->state.compare_exchange_weak(s, s == kParked ? kClaimedParked : kClaimed,
                                               std::memory_order_acq_rel,
                                               std::memory_order_relaxed));
  wl.add(owner);
  return true;
}

// Under the lock: pops waiters from q until it claims one, and returns that
// node (its owner claimed and told which node completed), or null. The caller
// completes the node's operation before releasing the lock.
ChanWaiter* take_waiter(WaitQueue& q, std::uint8_t result, WakeList& wl) noexcept {
  while (Waiter* w = pop_front(q)) {
    ChanWaiter* n = as_chan(w);
    if (claim_owner(n->owner, wl)) {
      n->owner->fired = n->index;
      n->owner->result = result;
      return n;
    }
  }
  return nullptr;
}

unsigned char* slot(ChanCore& c, std::size_t i) noexcept {
  std::size_t k = c.head + i;
  if (k >= c.slots) k -= c.slots;
  return c.buf + k * c.ops->size;
}

unsigned char* allocate(const ChanOps* ops, std::size_t slots) {
  if (slots > SIZE_MAX / ops->size) throw std::bad_alloc();
  return static_cast<unsigned char*>(
      ::operator new(slots * ops->size, std::align_val_t(ops->align)));
}

void deallocate(const ChanOps* ops, unsigned char* p) noexcept {
  ::operator delete(p, std::align_val_t(ops->align));
}

// An unbounded channel's full ring doubles, its values moved over in order.
void grow(ChanCore& c) {
  const std::size_t n = c.slots;
  const std::size_t m = n ? (n > SIZE_MAX / 2 ? SIZE_MAX : 2 * n) : 16;
  unsigned char* nb = allocate(c.ops, m);  // may throw: nothing changed yet
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char* from = slot(c, i);
    c.ops->put(nb + i * c.ops->size, from);
    c.ops->destroy(from);
  }
  if (c.buf) deallocate(c.ops, c.buf);
  c.buf = nb;
  c.slots = m;
  c.head = 0;
}

// The operations that need no waiting, under the channel's lock. Claimed
// waiters go to wl, to be notified after the lock is released.
ChanResult send_locked(ChanCore& c, void* src, WakeList& wl) {
  if (c.closed.load(std::memory_order_relaxed)) return ChanResult::Closed;
  if (ChanWaiter* r = take_waiter(c.recvq, kResDone, wl)) {
    c.ops->give(r->elem, src);
    return ChanResult::Done;
  }
  const std::size_t n = c.count.load(std::memory_order_relaxed);
  if (c.cap < 0) {
    if (n == c.slots) grow(c);
  } else if (n >= static_cast<std::size_t>(c.cap)) {
    return ChanResult::NotReady;
  }
  c.ops->put(slot(c, n), src);
  c.count.store(n + 1, std::memory_order_relaxed);
  return ChanResult::Done;
}

ChanResult recv_locked(ChanCore& c, void* out, WakeList& wl) noexcept {
  std::size_t n = c.count.load(std::memory_order_relaxed);
  if (n > 0) {
    unsigned char* s = slot(c, 0);
    c.ops->give(out, s);
    c.ops->destroy(s);
    c.head = c.head + 1 == c.slots ? 0 : c.head + 1;
    --n;
    // The ring was full if a sender waits: its value goes to the back.
    if (ChanWaiter* w = take_waiter(c.sendq, kResDone, wl)) {
      c.ops->put(slot(c, n), w->elem);
      ++n;
    }
    c.count.store(n, std::memory_order_relaxed);
    return ChanResult::Done;
  }
  if (ChanWaiter* w = take_waiter(c.sendq, kResDone, wl)) {
    c.ops->give(out, w->elem);  // rendezvous: straight from the sender
    return ChanResult::Done;
  }
  return c.closed.load(std::memory_order_relaxed) ? ChanResult::Closed : ChanResult::NotReady;
}

// Waits for w, queued on q of channel c; on a timeout unqueues it.
ChanResult finish_wait(ChanCore& c, WaitQueue& q, ChanWaiter& w) noexcept {
  if (await(w)) return w.result == kResClosed ? ChanResult::Closed : ChanResult::Done;
  QueueLock lk(c.recvq);
  if (w.linked) unlink(q, &w);
  return ChanResult::NotReady;
}

// Picks the first case a select polls, so that no ready case starves.
std::atomic<std::size_t> g_select_rotation{0};

// The locks of a select's channels, taken in address order, each once.
class SelectLocks {
 public:
  SelectLocks(ChanCore** chans, std::size_t n) noexcept : chans_(chans), n_(n) {
    for (std::size_t i = 0; i < n_; ++i) QueueLock::lock(chans_[i]->recvq);
  }
  ~SelectLocks() {
    for (std::size_t i = n_; i-- > 0;) chans_[i]->recvq.lock.store(0, std::memory_order_release);
  }
  SelectLocks(const SelectLocks&) = delete;
  SelectLocks& operator=(const SelectLocks&) = delete;

 private:
  ChanCore** chans_;
  std::size_t n_;
};

// Small arrays on the stack, larger ones on the heap.
template <class T, std::size_t N>
class SmallArray {
 public:
  explicit SmallArray(std::size_t n) {
    if (n > N) {
      heap_.reset(new T[n]);
      p_ = heap_.get();
    }
  }
  T* data() noexcept { return p_; }
  T& operator[](std::size_t i) noexcept { return p_[i]; }

 private:
  T local_[N];
  std::unique_ptr<T[]> heap_;
  T* p_ = local_;
};

[[noreturn]] void throw_select_closed(const char* fn, std::size_t i) {
  throw UsageError("quanta::" + std::string(fn) + ": send case " + std::to_string(i) +
                   " completed on a closed channel; expected sends only before close() (the "
                   "value was not sent and is still the caller's)");
}

}  // namespace

void chan_init(ChanCore& c, const ChanOps* ops, std::int64_t capacity) {
  c.ops = ops;
  if (capacity == -1) {  // Channel::kUnbounded: the ring grows on demand
    c.cap = -1;
    return;
  }
  if (capacity < 0 || capacity > kCountMax) {
    throw ConfigError("quanta::Channel: capacity " + std::to_string(capacity) +
                      " is outside the accepted range [0, " + std::to_string(kCountMax) +
                      "]; use quanta::unbounded for a channel without a bound");
  }
  c.cap = capacity;
  if (capacity > 0) {
    c.buf = allocate(ops, static_cast<std::size_t>(capacity));
    c.slots = static_cast<std::size_t>(capacity);
  }
}

void chan_destroy(ChanCore& c) noexcept {
  if (front(c.recvq) || front(c.sendq)) {
    sync_abort(
        "Channel: destroyed while %s wait on it; expected every send() and recv() to "
        "have returned first",
        front(c.recvq) ? "receivers" : "senders");
  }
  const std::size_t n = c.count.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < n; ++i) c.ops->destroy(slot(c, i));
  if (c.buf) deallocate(c.ops, c.buf);
  c.buf = nullptr;
}

ChanResult chan_send(ChanCore& c, void* src, std::int64_t deadline_ns, bool wait) {
  RuntimeSection section;
  ChanWaiter w(section.ult(), deadline_ns);
  WakeList wl;
  ChanResult r;
  {
    QueueLock lk(c.recvq);
    r = send_locked(c, src, wl);
    if (r == ChanResult::NotReady && wait) {
      w.elem = src;
      push_back(c.sendq, &w);
    }
  }
  if (r != ChanResult::NotReady || !wait) {
    wl.wake_all();  // the last touch of c: a notified receiver may destroy it
    return r;
  }
  return finish_wait(c, c.sendq, w);
}

ChanResult chan_recv(ChanCore& c, void* out, std::int64_t deadline_ns, bool wait) noexcept {
  RuntimeSection section;
  ChanWaiter w(section.ult(), deadline_ns);
  WakeList wl;
  ChanResult r;
  {
    QueueLock lk(c.recvq);
    r = recv_locked(c, out, wl);
    if (r == ChanResult::NotReady && wait) {
      w.elem = out;
      push_back(c.recvq, &w);
    }
  }
  if (r != ChanResult::NotReady || !wait) {
    wl.wake_all();
    return r;
  }
  return finish_wait(c, c.recvq, w);
}

bool chan_close(ChanCore& c) noexcept {
  RuntimeSection section;
  WakeList wl;
  {
    QueueLock lk(c.recvq);
    if (c.closed.load(std::memory_order_relaxed)) return false;
    c.closed.store(true, std::memory_order_release);
    // Receivers wait only while the ring is empty: they get nothing. Senders
    // keep their values.
    while (take_waiter(c.recvq, kResClosed, wl)) {
    }
    while (take_waiter(c.sendq, kResClosed, wl)) {
    }
  }
  wl.wake_all();
  return true;
}

void chan_throw_closed(const char* fn) {
  throw UsageError("quanta::Channel::" + std::string(fn) +
                   ": the channel is closed; expected sends only before close() (the value "
                   "was not sent and is still the caller's)");
}

std::size_t select_run(SelectCase* cases, std::size_t n, std::int64_t deadline_ns, bool wait,
                       const char* fn) {
  if (n == 0) {
    if (!wait) return kSelectNone;
    if (deadline_ns == kNoDeadline) {
      throw UsageError("quanta::" + std::string(fn) +
                       ": the select has no cases and no deadline, so it would never return; "
                       "expected at least one recv() or send() case");
    }
  }
  // Receive cases start empty. Outside the section: this may run ~T().
  for (std::size_t i = 0; i < n; ++i)
    if (!cases[i].send) cases[i].chan->ops->clear(cases[i].elem);

  SmallArray<ChanWaiter, 4> nodes(n);
  SmallArray<ChanCore*, 8> chans(n);
  for (std::size_t i = 0; i < n; ++i) chans[i] = cases[i].chan;
  std::sort(chans.data(), chans.data() + n, std::less<ChanCore*>());
  const std::size_t locks =
      static_cast<std::size_t>(std::unique(chans.data(), chans.data() + n) - chans.data());

  RuntimeSection section;
  ChanWaiter owner(section.ult(), deadline_ns);
  WakeList wl;
  std::size_t fired = kSelectNone;
  ChanResult r = ChanResult::NotReady;
  {
    SelectLocks lk(chans.data(), locks);
    const std::size_t start = n ? g_select_rotation.fetch_add(1, std::memory_order_relaxed) % n : 0;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = start + k < n ? start + k : start + k - n;
      SelectCase& sc = cases[i];
      r = sc.send ? send_locked(*sc.chan, sc.elem, wl) : recv_locked(*sc.chan, sc.elem, wl);
      if (r != ChanResult::NotReady) {
        fired = i;
        break;
      }
    }
    if (fired == kSelectNone && wait) {
      for (std::size_t i = 0; i < n; ++i) {
        ChanWaiter& node = nodes[i];
        node.owner = &owner;
        node.elem = cases[i].elem;
        node.index = i;
        push_back(cases[i].send ? cases[i].chan->sendq : cases[i].chan->recvq, &node);
      }
    }
  }
  if (fired != kSelectNone) {
    wl.wake_all();
    if (cases[fired].send && r == ChanResult::Closed) throw_select_closed(fn, fired);
    return fired;
  }
  if (!wait) return kSelectNone;

  const bool got = await(owner);
  // Unqueue the nodes that no counterpart popped.
  for (std::size_t i = 0; i < n; ++i) {
    ChanCore& c = *cases[i].chan;
    QueueLock lk(c.recvq);
    if (nodes[i].linked) unlink(cases[i].send ? c.sendq : c.recvq, &nodes[i]);
  }
  if (!got) return kSelectNone;
  fired = owner.fired;
  if (cases[fired].send && owner.result == kResClosed) throw_select_closed(fn, fired);
  return fired;
}

}  // namespace quanta::detail
