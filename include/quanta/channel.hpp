// quanta — Channel<T>: bounded, rendezvous and unbounded channels between
// ULTs and kernel threads, and Select over several of them.
#pragma once
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "quanta/detail/sync_base.hpp"

namespace quanta {

template <class T>
class Channel;
class Select;

// Tag for a channel without a bound: Channel<T> ch(quanta::unbounded).
struct Unbounded {
  explicit Unbounded() = default;
};
inline constexpr Unbounded unbounded{};

// What a send that may fail did. The value is moved from only on Sent.
enum class SendStatus : std::uint8_t {
  Sent,    // a receiver took the value, or it is in the buffer
  Full,    // no room: now (try_send) or before the deadline (send_for, send_until)
  Closed,  // the channel is closed; nothing was sent
};

// What a receive that may fail found.
enum class RecvStatus : std::uint8_t {
  Received,  // a value (the result holds it)
  Empty,     // nothing: now (try_recv) or before the deadline (recv_for, recv_until)
  Closed,    // the channel is closed and every value sent before close() is taken
};

// The result of try_recv, recv_for and recv_until: a std::optional<T> that
// holds the value when one was received, and says why not otherwise.
template <class T>
class RecvResult : public std::optional<T> {
 public:
  RecvStatus status() const noexcept { return this->has_value() ? RecvStatus::Received : status_; }

 private:
  friend class Channel<T>;
  RecvStatus status_ = RecvStatus::Empty;
};

namespace detail {

// How the channel code in runtime/sync/channel.cpp moves a T it knows only by
// address. `out` always points at a std::optional<T>.
struct ChanOps {
  std::size_t size;                             // sizeof(T): one buffer slot
  std::size_t align;                            // alignof(T)
  void (*put)(void* slot, void* src) noexcept;  // construct *slot from std::move(*src)
  void (*give)(void* out, void* src) noexcept;  // out->emplace(std::move(*src))
  void (*destroy)(void* slot) noexcept;         // slot->~T()
  void (*clear)(void* out) noexcept;            // out->reset()
};

template <class T>
struct ChanOpsFor {
  static void put(void* slot, void* src) noexcept {
    ::new (slot) T(std::move(*static_cast<T*>(src)));
  }
  static void give(void* out, void* src) noexcept {
    static_cast<std::optional<T>*>(out)->emplace(std::move(*static_cast<T*>(src)));
  }
  static void destroy(void* slot) noexcept { static_cast<T*>(slot)->~T(); }
  static void clear(void* out) noexcept { static_cast<std::optional<T>*>(out)->reset(); }
  static constexpr ChanOps ops{sizeof(T), alignof(T), &put, &give, &destroy, &clear};
};

// A channel's state. The spin lock of `recvq` guards all of it, both queues
// included; `count` and `closed` are atomics only so that size() and closed()
// may read a snapshot without the lock.
struct ChanCore {
  const ChanOps* ops = nullptr;
  WaitQueue recvq;               // receivers waiting for a value
  WaitQueue sendq;               // senders waiting for room or a receiver
  unsigned char* buf = nullptr;  // ring of `slots` values, oldest at `head`
  std::size_t slots = 0;
  std::size_t head = 0;
  std::atomic<std::size_t> count{0};  // values in the ring
  std::int64_t cap = 0;               // the bound, or -1 (unbounded)
  std::atomic<bool> closed{false};
};

// The outcome of one channel operation (for a send that waited too).
enum class ChanResult : std::uint8_t { Done, NotReady, Closed };

void chan_init(ChanCore& c, const ChanOps* ops, std::int64_t capacity);
void chan_destroy(ChanCore& c) noexcept;
// src points at the T to send, out at a std::optional<T>. With wait = false
// they never wait; otherwise they wait until deadline_ns (kNoDeadline: for
// ever). A send may throw std::bad_alloc (an unbounded channel growing); it
// then sent nothing.
ChanResult chan_send(ChanCore& c, void* src, std::int64_t deadline_ns, bool wait);
ChanResult chan_recv(ChanCore& c, void* out, std::int64_t deadline_ns, bool wait) noexcept;
bool chan_close(ChanCore& c) noexcept;
[[noreturn]] void chan_throw_closed(const char* fn);

// One case of a select: a send of *elem (a T) or a receive into *elem (a
// std::optional<T>).
struct SelectCase {
  ChanCore* chan;
  void* elem;
  bool send;
};
inline constexpr std::size_t kSelectNone = static_cast<std::size_t>(-1);
// Completes exactly one case and returns its index, or kSelectNone when the
// deadline passed (or, with wait = false, when no case was ready). Throws
// UsageError, naming `fn`, when the case chosen is a send on a closed channel,
// or when asked to wait without a deadline on no cases.
std::size_t select_run(SelectCase* cases, std::size_t n, std::int64_t deadline_ns, bool wait,
                       const char* fn);

struct ChanAccess {
  template <class T>
  static ChanCore& core(Channel<T>& ch) noexcept {
    return ch.core_;
  }
};

}  // namespace detail

// A FIFO channel carrying values of type T from any number of senders to any
// number of receivers (ULTs of any runtime, and kernel threads), in the
// manner of Go's chan:
//
//   * Channel<T> ch(n) with n >= 1 buffers up to n values; send() waits while
//     the buffer is full.
//   * Channel<T> ch(0) is a rendezvous: send() returns only once a receiver
//     has taken the value.
//   * Channel<T> ch(quanta::unbounded) never makes a sender wait; its buffer
//     grows as needed (a send may then throw std::bad_alloc, sending nothing).
//
// Waiting parks a ULT (its worker runs other ULTs) and blocks a kernel
// thread on a futex. Waiting senders and receivers are served in arrival
// order, and values come out in the order they went in (per sender).
//
// close() ends the stream: every value accepted before it is still delivered
// to exactly one receiver, recv() returns an empty optional once the channel
// is closed and drained, and senders (waiting ones included) fail from then
// on. send() throws UsageError on a closed channel; try_send, send_for and
// send_until return SendStatus::Closed. A send that fails never consumes its
// value: the argument is moved from only when the value was sent.
//
// Values are moved, never copied (the const T& overloads copy their argument
// once, into the value they send). T must be nothrow move constructible and
// nothrow destructible: its move constructor and destructor run inside the
// channel's short critical section, so they must not wait on anything either.
//
// Not copyable, not movable. Destroying a channel destroys the values still
// buffered; destroying it while anyone waits on it aborts.
template <class T>
class Channel {
  static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_array_v<T>,
                "quanta::Channel<T>: T must be a non-const object type");
  static_assert(std::is_nothrow_move_constructible_v<T> && std::is_nothrow_destructible_v<T>,
                "quanta::Channel<T>: T must be nothrow move constructible and destructible");

 public:
  // capacity() of an unbounded channel.
  static constexpr std::int64_t kUnbounded = -1;
  // The largest bound a channel accepts (2^61).
  static constexpr std::int64_t kMaxCapacity = detail::kCountMax;

  // A channel buffering up to `capacity` values; 0 makes a rendezvous
  // channel. ConfigError unless 0 <= capacity <= kMaxCapacity;
  // std::bad_alloc if the buffer cannot be allocated.
  explicit Channel(std::int64_t capacity) {
    detail::chan_init(core_, &detail::ChanOpsFor<T>::ops, capacity);
  }
  // A channel without a bound.
  explicit Channel(Unbounded) { detail::chan_init(core_, &detail::ChanOpsFor<T>::ops, kUnbounded); }
  ~Channel() { detail::chan_destroy(core_); }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Sends v, waiting while the channel is full (for a rendezvous channel:
  // until a receiver takes it). UsageError if the channel is closed, before
  // or while waiting; v is then not moved from.
  void send(T&& v) {
    if (detail::chan_send(core_, &v, detail::kNoDeadline, true) == detail::ChanResult::Closed)
      detail::chan_throw_closed("send");
  }
  // Sends a copy of v.
  void send(const T& v) requires std::copy_constructible<T> {
    T copy(v);
    send(std::move(copy));
  }

  // Sends v if that needs no waiting: Sent, Full (a rendezvous channel is
  // "full" unless a receiver waits), or Closed. v is moved from only on Sent.
  [[nodiscard]] SendStatus try_send(T&& v) {
    return status(detail::chan_send(core_, &v, 0, false));
  }
  [[nodiscard]] SendStatus try_send(const T& v) requires std::copy_constructible<T> {
    T copy(v);
    return try_send(std::move(copy));
  }

  // Sends v, waiting at most `d`: Sent, Full (no room in time) or Closed
  // (closed before or while waiting). v is moved from only on Sent.
  template <class Rep, class Period>
  [[nodiscard]] SendStatus send_for(T&& v, const std::chrono::duration<Rep, Period>& d) {
    return status(detail::chan_send(core_, &v, detail::deadline_after(d), true));
  }
  // As send_for, waiting until `tp` (any clock) at most.
  template <class Clock, class Duration>
  [[nodiscard]] SendStatus send_until(T&& v, const std::chrono::time_point<Clock, Duration>& tp) {
    return status(detail::chan_send(core_, &v, detail::deadline_at(tp), true));
  }

  // Receives the oldest value, waiting while the channel is empty. Empty
  // once the channel is closed and every value sent before close() is taken.
  std::optional<T> recv() noexcept {
    std::optional<T> out;
    detail::chan_recv(core_, &out, detail::kNoDeadline, true);
    return out;
  }

  // Receives a value if one is there (or a sender waits); never waits. The
  // result holds the value, or says Empty or Closed (closed and drained).
  [[nodiscard]] RecvResult<T> try_recv() noexcept { return recv_ns(0, false); }

  // Receives a value, waiting at most `d`: the result holds it, or says
  // Empty (none came in time) or Closed (closed and drained).
  template <class Rep, class Period>
  [[nodiscard]] RecvResult<T> recv_for(const std::chrono::duration<Rep, Period>& d) noexcept {
    return recv_ns(detail::deadline_after(d), true);
  }
  // As recv_for, waiting until `tp` (any clock) at most.
  template <class Clock, class Duration>
  [[nodiscard]] RecvResult<T> recv_until(
      const std::chrono::time_point<Clock, Duration>& tp) noexcept {
    return recv_ns(detail::deadline_at(tp), true);
  }

  // Closes the channel: later sends fail, and waiting senders fail now;
  // waiting receivers return empty (there is nothing buffered while anyone
  // waits to receive); buffered values stay for the receivers. True if this
  // call closed it, false if it was closed already.
  bool close() noexcept { return detail::chan_close(core_); }

  // Whether close() has been called (a snapshot).
  bool closed() const noexcept { return core_.closed.load(std::memory_order_acquire); }
  // The values buffered now (a snapshot; always 0 for a rendezvous channel).
  std::size_t size() const noexcept { return core_.count.load(std::memory_order_relaxed); }
  // The bound given at construction, or kUnbounded.
  std::int64_t capacity() const noexcept { return core_.cap; }

 private:
  friend struct detail::ChanAccess;

  static SendStatus status(detail::ChanResult r) noexcept {
    switch (r) {
      case detail::ChanResult::Done:
        return SendStatus::Sent;
      case detail::ChanResult::NotReady:
        return SendStatus::Full;
      case detail::ChanResult::Closed:
        break;
    }
    return SendStatus::Closed;
  }

  RecvResult<T> recv_ns(std::int64_t deadline_ns, bool wait) noexcept {
    RecvResult<T> out;
    const detail::ChanResult r =
        detail::chan_recv(core_, static_cast<std::optional<T>*>(&out), deadline_ns, wait);
    out.status_ = r == detail::ChanResult::Closed ? RecvStatus::Closed : RecvStatus::Empty;
    return out;
  }

  detail::ChanCore core_;
};

// A select over channels, as Go's select statement: add receive and send
// cases, then wait() completes exactly one of them and returns its index
// (cases are numbered from 0 in the order they were added).
//
//   std::optional<Job> job;
//   std::optional<int> stop;
//   quanta::Select sel;
//   const std::size_t on_job = sel.recv(jobs, job);
//   sel.recv(control, stop);
//   if (sel.wait() == on_job) run(*job); else ...
//
// A receive case is ready when its channel has a value or a waiting sender,
// or is closed and drained; it then completes with the value in its
// std::optional, or with the optional empty (closed). Like a recv() on it,
// a closed channel's receive case stays ready: stop adding it to selects
// once it has reported closed. A send case is ready when its channel has
// room or a waiting receiver, or is closed; a send case that completes on a
// closed channel makes wait() throw UsageError, its value not moved from.
//
// When several cases are ready, the one chosen rotates from one wait to the
// next, so that no ready case starves. A value is taken by exactly one case:
// the other cases of the select are left as they were (their optionals
// empty, their values not moved from).
//
// A Select keeps references to its channels, optionals and values; they must
// outlive its waits. It may be waited on again (each wait first empties
// every receive case's optional). Not for use by two threads at once.
class Select {
 public:
  Select() = default;
  Select(const Select&) = delete;
  Select& operator=(const Select&) = delete;

  // Adds a case receiving from ch into out; returns its index.
  template <class T>
  std::size_t recv(Channel<T>& ch, std::optional<T>& out) {
    cases_.push_back({&detail::ChanAccess::core(ch), &out, false});
    return cases_.size() - 1;
  }

  // Adds a case sending `value` on ch; returns its index. `value` is moved
  // from only if this case is the one that completes.
  template <class T>
  std::size_t send(Channel<T>& ch, T& value) {
    cases_.push_back({&detail::ChanAccess::core(ch), &value, true});
    return cases_.size() - 1;
  }

  // Waits until one case completes; returns its index. UsageError when there
  // are no cases (the wait would never end), or when the case that completes
  // is a send on a closed channel.
  std::size_t wait() {
    return detail::select_run(cases_.data(), cases_.size(), detail::kNoDeadline, true,
                              "Select::wait");
  }

  // Completes a case that is ready now; empty when none is (Go's `default:`).
  [[nodiscard]] std::optional<std::size_t> try_wait() {
    return result(detail::select_run(cases_.data(), cases_.size(), 0, false, "Select::try_wait"));
  }

  // As wait(), for at most `d`; empty when no case completed in time.
  template <class Rep, class Period>
  [[nodiscard]] std::optional<std::size_t> wait_for(const std::chrono::duration<Rep, Period>& d) {
    return result(detail::select_run(cases_.data(), cases_.size(), detail::deadline_after(d), true,
                                     "Select::wait_for"));
  }
  // As wait(), until `tp` (any clock) at most.
  template <class Clock, class Duration>
  [[nodiscard]] std::optional<std::size_t> wait_until(
      const std::chrono::time_point<Clock, Duration>& tp) {
    return result(detail::select_run(cases_.data(), cases_.size(), detail::deadline_at(tp), true,
                                     "Select::wait_until"));
  }

  // The number of cases added.
  std::size_t size() const noexcept { return cases_.size(); }

 private:
  static std::optional<std::size_t> result(std::size_t i) noexcept {
    if (i == detail::kSelectNone) return std::nullopt;
    return i;
  }

  std::vector<detail::SelectCase> cases_;
};

// The result of select() over channels of one type: which channel (its
// position in the argument list, from 0) and what it gave (empty: it is
// closed and drained).
template <class T>
struct Selected {
  std::size_t index;
  std::optional<T> value;
};

namespace detail {
template <class T, class... Rest>
std::size_t select_recv(std::optional<T>& out, std::int64_t deadline_ns, bool wait, const char* fn,
                        Channel<T>& first, Rest&... rest) {
  // Only one case completes, so every case may receive into the same optional.
  SelectCase cases[] = {{&ChanAccess::core(first), &out, false},
                        {&ChanAccess::core(rest), &out, false}...};
  return select_run(cases, sizeof...(Rest) + 1, deadline_ns, wait, fn);
}
}  // namespace detail

// Receives from whichever of the channels has a value first (a closed and
// drained one counts: it gives an empty value). As Select with one receive
// case per channel, without allocating.
template <class T, class... Rest>
requires(std::same_as<Rest, Channel<T>>&&...) Selected<T> select(Channel<T>& first, Rest&... rest) {
  Selected<T> r{0, std::nullopt};
  r.index = detail::select_recv(r.value, detail::kNoDeadline, true, "select", first, rest...);
  return r;
}

// As select(), without waiting: empty when no channel is ready.
template <class T, class... Rest>
requires(std::same_as<Rest, Channel<T>>&&...) std::optional<Selected<T>> try_select(
    Channel<T>& first, Rest&... rest) {
  Selected<T> r{0, std::nullopt};
  r.index = detail::select_recv(r.value, 0, false, "try_select", first, rest...);
  if (r.index == detail::kSelectNone) return std::nullopt;
  return r;
}

// As select(), waiting at most `d`: empty when no channel was ready in time.
template <class Rep, class Period, class T, class... Rest>
requires(std::same_as<Rest, Channel<T>>&&...) std::optional<Selected<T>> select_for(
    const std::chrono::duration<Rep, Period>& d, Channel<T>& first, Rest&... rest) {
  Selected<T> r{0, std::nullopt};
  r.index =
      detail::select_recv(r.value, detail::deadline_after(d), true, "select_for", first, rest...);
  if (r.index == detail::kSelectNone) return std::nullopt;
  return r;
}

// As select(), waiting until `tp` (any clock) at most.
template <class Clock, class Duration, class T, class... Rest>
requires(std::same_as<Rest, Channel<T>>&&...) std::optional<Selected<T>> select_until(
    const std::chrono::time_point<Clock, Duration>& tp, Channel<T>& first, Rest&... rest) {
  Selected<T> r{0, std::nullopt};
  r.index =
      detail::select_recv(r.value, detail::deadline_at(tp), true, "select_until", first, rest...);
  if (r.index == detail::kSelectNone) return std::nullopt;
  return r;
}

}  // namespace quanta
