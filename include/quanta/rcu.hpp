// quanta — Rcu<T>: read-copy-update. Readers get a consistent version of a T
// without locks or waiting; writers publish a new version and the old one is
// freed once no reader can still hold it.
//
//   quanta::Rcu<Config> cfg(Config{...});
//   { auto g = cfg.read(); use(g->field); }        // a read section
//   cfg.update([](const Config& old) { Config c = old; c.x = 1; return c; });
//   cfg.synchronize();                              // wait; free old versions
//
// A read section is the lifetime of the guard read() returns. Inside it the
// version the guard points to stays valid, however many updates happen. On a
// ULT the section runs with preemption off (as a NoPreempt scope), so it must
// be short, and it must not switch: yielding, sleeping, joining or waiting
// for a lock inside it is a bug (with QUANTA_SYNC_CHECKS, on unless NDEBUG,
// the runtime aborts with a message). On a kernel thread it may block, but
// synchronize() then waits for it.
//
// Grace periods (see docs/api.md, "Rcu"): an old version is freed once every
// worker of every Runtime has switched or been idle since it was replaced
// (a reading ULT cannot switch, so a switch proves it left), and every read
// section of a kernel thread that could have seen it has ended.
#pragma once
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "quanta/detail/sync_base.hpp"  // QUANTA_SYNC_CHECKS

namespace quanta {

namespace detail {

using RcuDeleter = void (*)(void*) noexcept;

// How a read section was entered; kept by its guard.
struct RcuReadToken {
  void* ult = nullptr;     // the reading ULT, or null on a kernel thread
  std::uint32_t slot = 0;  // kernel thread: the reader counter it incremented
  bool checked = false;    // counted in the ULT's read depth (misuse checks)
};

struct RcuState;  // runtime/rcu/rcu.cpp

// The type-erased part of Rcu<T>: the published pointer, the readers of
// kernel threads, the writer lock, retired versions and grace periods.
class RcuCore {
 public:
  RcuCore(void* initial, RcuDeleter deleter);
  // Frees the current version and every retired one; no reader may be left.
  ~RcuCore();
  RcuCore(const RcuCore&) = delete;
  RcuCore& operator=(const RcuCore&) = delete;

  const void* read_enter(RcuReadToken& token, bool checked) const noexcept;
  void read_leave(const RcuReadToken& token) const noexcept;

  // Writers: lock(), then current() / publish(), then unlock(), which frees
  // what has become reclaimable after the lock is released.
  void lock() noexcept;
  void unlock() noexcept;
  const void* current() const noexcept;  // with the lock held
  // Publishes p and retires the old version. Throws std::bad_alloc before
  // changing anything.
  void publish(void* p);

  void synchronize();
  std::size_t reclaim() noexcept;
  std::size_t retired() const noexcept;

 private:
  RcuState* st_;
};

}  // namespace detail

// A T shared by readers that never wait and writers that replace it whole.
//
// Who may call what (ULTs of any runtime and kernel threads, concurrently):
//
// | call                         | may run concurrently with         | waits               |
// |------------------------------|-----------------------------------|---------------------|
// | read() and the guard         | everything but the destructor     | never               |
// | update(value), update(fn)    | everything but the destructor     | for the writer lock |
// | synchronize()                | everything but the destructor     | a grace period      |
// | reclaim(), retired()         | everything but the destructor     | for the writer lock |
// | destructor                   | nothing: no reader or writer left | never               |
//
// Updates are serialised by a writer lock (a quanta::Mutex: a waiting ULT
// parks), so update(fn) sees the version the previous update published and
// no update is lost.
template <class T>
class Rcu {
  static_assert(std::is_object_v<T> && !std::is_array_v<T> && !std::is_const_v<T>,
                "quanta::Rcu<T>: T must be a non-const object type");
  static_assert(std::is_nothrow_destructible_v<T>, "quanta::Rcu<T>: ~T() must not throw");

 public:
  // A read section: the version published when it began, valid until the
  // guard is destroyed. Not copyable, not movable: it ends on the thread and
  // ULT it began on.
  class ReadGuard {
   public:
    ~ReadGuard() { core_->read_leave(token_); }
    ReadGuard(const ReadGuard&) = delete;
    ReadGuard& operator=(const ReadGuard&) = delete;

    const T& operator*() const noexcept { return *p_; }
    const T* operator->() const noexcept { return p_; }
    const T* get() const noexcept { return p_; }

   private:
    friend class Rcu;
    explicit ReadGuard(const detail::RcuCore& core) noexcept
        : core_(&core),
          p_(static_cast<const T*>(core.read_enter(token_, QUANTA_SYNC_CHECKS != 0))) {}
    const detail::RcuCore* core_;
    detail::RcuReadToken token_;
    const T* p_;
  };

  // The first version: T() / `initial` / T(args...).
  Rcu() requires std::default_initializable<T> : core_(new T(), &destroy) {}
  explicit Rcu(T initial) : core_(make(std::move(initial)), &destroy) {}
  template <class... Args>
  explicit Rcu(std::in_place_t, Args&&... args)
      : core_(make_from(std::forward<Args>(args)...), &destroy) {}

  // Frees the current version and every retired one. No read section and no
  // other call may be running or start; earlier read sections must have ended.
  ~Rcu() = default;

  Rcu(const Rcu&) = delete;
  Rcu& operator=(const Rcu&) = delete;

  // Begins a read section. Wait-free: on a ULT, a call into the runtime and
  // an acquire load; on a kernel thread, one atomic increment more.
  [[nodiscard]] ReadGuard read() const noexcept { return ReadGuard(core_); }

  // Publishes `value` as the new version. The old one is retired: freed
  // after a grace period, by a later update(), synchronize() or reclaim() (or
  // the destructor). Never waits for readers. Throws std::bad_alloc, leaving
  // the current version in place.
  void update(T value) {
    std::unique_ptr<T> next(make(std::move(value)));
    Lock lk(core_);
    core_.publish(next.get());
    next.release();
  }

  // Publishes fn(current) as the new version, atomically with respect to
  // other updates: fn runs with the writer lock held, so it must not read
  // or update this Rcu itself. If fn throws, nothing changes and the
  // exception propagates.
  template <class F>
    requires std::is_invocable_r_v<T, F&, const T&> &&
             (!std::is_convertible_v<F &&, T>)
  void update(F&& fn) {
    Lock lk(core_);
    std::unique_ptr<T> next(make(std::invoke(fn, *static_cast<const T*>(core_.current()))));
    core_.publish(next.get());
    next.release();
  }

  // Waits until every read section that began before the call has ended,
  // then frees every version retired before the call. A ULT parks (sleeps
  // with a growing interval, so its worker runs others); a kernel thread
  // sleeps. Must not be called inside a read section (it would wait for
  // itself; misuse checks abort on a ULT, a kernel thread always aborts).
  void synchronize() { core_.synchronize(); }

  // Frees the retired versions whose grace period has passed, without
  // waiting for one; returns how many remain retired.
  std::size_t reclaim() noexcept { return core_.reclaim(); }

  // Versions replaced and not freed yet (a snapshot).
  std::size_t retired() const noexcept { return core_.retired(); }

 private:
  struct Lock {
    explicit Lock(detail::RcuCore& c) noexcept : c_(c) { c_.lock(); }
    ~Lock() { c_.unlock(); }
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;
    detail::RcuCore& c_;
  };

  static void destroy(void* p) noexcept { delete static_cast<T*>(p); }
  static T* make(T&& v) { return new T(std::move(v)); }
  template <class... Args>
  static T* make_from(Args&&... args) {
    return new T(std::forward<Args>(args)...);
  }

  detail::RcuCore core_;
};

}  // namespace quanta
