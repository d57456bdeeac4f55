// Two contexts on one thread bouncing control back and forth: the raw-switch
// cases of quanta-bench and quanta-gbench. One round trip is two switches.
// The echo context is left suspended on destruction; it owns nothing but its
// stack.
#pragma once
#include <boost/context/detail/fcontext.hpp>

#include <cstdint>
#include <utility>

#include "arch/context.h"
#include "raw_stack.hpp"

namespace qbench {

// quanta_ctx_switch / quanta_ctx_make.
class QuantaPingPong {
 public:
  QuantaPingPong() : echo_sp_(quanta_ctx_make(stack_.top(), echo, this)) {}
  QuantaPingPong(const QuantaPingPong&) = delete;
  QuantaPingPong& operator=(const QuantaPingPong&) = delete;

  void round_trip() { quanta_ctx_switch(&main_sp_, echo_sp_); }

 private:
  static void echo(void* arg) {
    auto* self = static_cast<QuantaPingPong*>(arg);
    for (;;) quanta_ctx_switch(&self->echo_sp_, self->main_sp_);
  }

  RawStack stack_;
  void* main_sp_ = nullptr;
  void* echo_sp_;
};

// Boost.Context's jump_fcontext / make_fcontext.
class FcontextPingPong {
 public:
  FcontextPingPong()
      : echo_(boost::context::detail::make_fcontext(stack_.top(), RawStack::size(), echo)) {}
  FcontextPingPong(const FcontextPingPong&) = delete;
  FcontextPingPong& operator=(const FcontextPingPong&) = delete;

  void round_trip() { echo_ = boost::context::detail::jump_fcontext(echo_, nullptr).fctx; }

 private:
  static void echo(boost::context::detail::transfer_t t) {
    for (;;) t = boost::context::detail::jump_fcontext(t.fctx, nullptr);
  }

  RawStack stack_;
  boost::context::detail::fcontext_t echo_;
};

}  // namespace qbench

namespace qbench {

// Two contexts running the same loop, so every switch is made from the same
// call site — as in a runtime, where all ULTs switch from one place. run(n)
// makes n switches between them (plus one in and one out).
class QuantaSameSite {
 public:
  QuantaSameSite() = default;
  QuantaSameSite(const QuantaSameSite&) = delete;
  QuantaSameSite& operator=(const QuantaSameSite&) = delete;

  void run(std::uint64_t switches) {
    left_ = switches;
    sp_[0] = quanta_ctx_make(a_.top(), bounce, &sides_[0]);
    sp_[1] = quanta_ctx_make(b_.top(), bounce, &sides_[1]);
    quanta_ctx_switch(&main_sp_, sp_[0]);
  }

 private:
  struct Side {
    QuantaSameSite* self;
    int me;
  };
  // One function for both sides: a single call site of quanta_ctx_switch.
  static void bounce(void* arg) {
    auto* side = static_cast<Side*>(arg);
    QuantaSameSite* self = side->self;
    const int me = side->me;
    while (self->left_ > 0) {
      --self->left_;
      quanta_ctx_switch(&self->sp_[me], self->sp_[1 - me]);
    }
    quanta_ctx_switch(&self->sp_[me], self->main_sp_);
  }

  RawStack a_, b_;
  Side sides_[2] = {{this, 0}, {this, 1}};
  void* sp_[2] = {};
  void* main_sp_ = nullptr;
  std::uint64_t left_ = 0;
};

class FcontextSameSite {
 public:
  FcontextSameSite() = default;
  FcontextSameSite(const FcontextSameSite&) = delete;
  FcontextSameSite& operator=(const FcontextSameSite&) = delete;

  void run(std::uint64_t switches) {
    namespace d = boost::context::detail;
    left_ = switches;
    peer_ = d::make_fcontext(b_.top(), RawStack::size(), bounce);
    d::jump_fcontext(d::make_fcontext(a_.top(), RawStack::size(), bounce), this);
  }

 private:
  static void bounce(boost::context::detail::transfer_t t) {
    namespace d = boost::context::detail;
    auto* self = static_cast<FcontextSameSite*>(t.data);
    if (!self->main_) {
      // First context: remember main, start the second one.
      self->main_ = t.fctx;
      t = d::jump_fcontext(std::exchange(self->peer_, nullptr), self);
    }
    while (self->left_ > 0) {
      --self->left_;
      t = d::jump_fcontext(t.fctx, self);
    }
    d::fcontext_t main = std::exchange(self->main_, nullptr);
    if (main) d::jump_fcontext(main, self);
    // The second context to get here parks on its peer, which has left.
    d::jump_fcontext(t.fctx, self);
  }

  RawStack a_, b_;
  boost::context::detail::fcontext_t peer_ = nullptr;
  boost::context::detail::fcontext_t main_ = nullptr;
  std::uint64_t left_ = 0;
};

}  // namespace qbench
