// quanta::Channel under stress, on every worker, with both schedulers and
// under preemption:
//   * 10^7 messages from 16 producers to 16 consumers through a bounded
//     channel: every message is received exactly once (a per-message count,
//     and the sum); rendezvous and unbounded channels with fewer messages;
//   * close() racing with senders and receivers that use every form of send
//     and receive (and select), with random yields: the values whose send
//     succeeded are exactly the values received, over many rounds;
//   * selects racing each other over several channels: each value is taken
//     by exactly one select.
// Sizes shrink under ASan and QEMU (test_support.hpp, kStressDivisor); the
// watchdog turns a lost wake-up into a quick failure.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using quanta::Channel;
using quanta::RecvStatus;
using quanta::Runtime;
using quanta::SchedulerKind;
using quanta::SendStatus;

struct Mode {
  const char* name;
  SchedulerKind scheduler;
  bool preempt;
};

class ChannelStress : public ::testing::TestWithParam<Mode> {
 protected:
  // Every worker (one per PU), at least two.
  quanta::Config cfg() const {
    const unsigned n = std::max(2u, std::thread::hardware_concurrency());
    quanta::Config c =
        GetParam().preempt ? quanta::test::preemptive(n, 100us) : quanta::test::config(n);
    c.scheduler = GetParam().scheduler;
    return c;
  }
  bool preempt() const { return GetParam().preempt; }
};

unsigned next(unsigned& rng) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

// Producers send the values [0, total) between them, consumers receive until
// the channel is closed; each value must arrive exactly once.
void many_to_many(Runtime& rt, Channel<std::uint32_t>& ch, long total, bool burn) {
  constexpr int kProducers = 16, kConsumers = 16;
  std::vector<std::atomic<std::uint8_t>> seen(static_cast<std::size_t>(total));
  std::atomic<long> received{0}, sum_lo{0};
  std::atomic<int> producers_left{kProducers};
  quanta::test::Watchdog dog("channel messages", [&] { return received.load(); });

  std::vector<quanta::JoinHandle<void>> hs;
  for (int c = 0; c < kConsumers; ++c) {
    hs.push_back(rt.spawn([&] {
      long n = 0, s = 0;
      while (auto v = ch.recv()) {
        seen[*v].fetch_add(1, std::memory_order_relaxed);
        s += *v;
        if ((++n & 1023) == 0) received.fetch_add(1024, std::memory_order_relaxed);
        if (burn && (n & 63) == 0) quanta::test::burn(200);
      }
      received.fetch_add(n & 1023, std::memory_order_relaxed);
      sum_lo.fetch_add(s, std::memory_order_relaxed);
    }));
  }
  for (int p = 0; p < kProducers; ++p) {
    hs.push_back(rt.spawn([&, p] {
      // Producer p sends p, p + 16, p + 32, ...
      for (long v = p; v < total; v += kProducers) {
        ch.send(static_cast<std::uint32_t>(v));
        if (burn && (v & 63) == 0) quanta::test::burn(200);
      }
      if (producers_left.fetch_sub(1) == 1) ch.close();
    }));
  }
  for (auto& h : hs) h.join();

  EXPECT_EQ(received.load(), total);
  EXPECT_EQ(sum_lo.load(), total * (total - 1) / 2);
  long wrong = 0;
  for (auto& s : seen) wrong += s.load(std::memory_order_relaxed) != 1;
  EXPECT_EQ(wrong, 0) << "messages not received exactly once";
}

TEST_P(ChannelStress, TenMillionMessagesSixteenProducersSixteenConsumers) {
  Runtime rt(cfg());
  Channel<std::uint32_t> ch(1024);
  many_to_many(rt, ch, quanta::test::stress_scaled(10'000'000, 100'000), preempt());
}

TEST_P(ChannelStress, RendezvousManyToMany) {
  Runtime rt(cfg());
  Channel<std::uint32_t> ch(0);
  many_to_many(rt, ch, quanta::test::stress_scaled(300'000, 10'000), preempt());
}

TEST_P(ChannelStress, UnboundedManyToMany) {
  Runtime rt(cfg());
  Channel<std::uint32_t> ch(quanta::unbounded);
  many_to_many(rt, ch, quanta::test::stress_scaled(2'000'000, 50'000), preempt());
}

// Every round: a fresh channel of one of four kinds, senders and receivers
// using every form of the API with random yields, and close() at a random
// moment. Each sender adds up the values whose send succeeded, each receiver
// the values it got; the two must agree exactly.
TEST_P(ChannelStress, CloseRacingSendersAndReceiversLosesNothing) {
  Runtime rt(cfg());
  const long kRounds = quanta::test::stress_scaled(1500, 40);
  constexpr long kPerSender = 1000;
  std::atomic<long> rounds_done{0};
  quanta::test::Watchdog dog("close rounds", [&] { return rounds_done.load(); });
  long total_accepted = 0, total_refused = 0;
  for (long round = 0; round < kRounds; ++round) {
    std::unique_ptr<Channel<long>> ch;
    switch (round % 4) {
      case 0:
        ch = std::make_unique<Channel<long>>(0);
        break;
      case 1:
        ch = std::make_unique<Channel<long>>(1);
        break;
      case 2:
        ch = std::make_unique<Channel<long>>(4);
        break;
      default:
        ch = std::make_unique<Channel<long>>(quanta::unbounded);
        break;
    }
    Channel<long> idle(0);  // never used: a second select case
    std::atomic<long> accepted{0}, accepted_sum{0}, received{0}, received_sum{0}, refused{0};
    std::vector<quanta::JoinHandle<void>> hs;

    auto sender = [&](int id) {
      unsigned rng = 0x9e3779b9u * static_cast<unsigned>(id + 1) + static_cast<unsigned>(round);
      long n = 0, s = 0;
      for (long k = 0;; ++k) {
        // Enough values per round; then wait for the close and send once more.
        if (k == kPerSender)
          while (!ch->closed()) quanta::this_thread::yield();
        const long v = (static_cast<long>(id) << 32) + k + 1;
        const unsigned r = next(rng);
        SendStatus st;
        switch (r % 4) {
          case 0:
            try {
              ch->send(static_cast<long>(v));
              st = SendStatus::Sent;
            } catch (const quanta::UsageError&) {
              st = SendStatus::Closed;
            }
            break;
          case 1:
            st = ch->try_send(static_cast<long>(v));
            break;
          case 2:
            st = ch->send_for(static_cast<long>(v), std::chrono::microseconds(r % 50));
            break;
          default: {
            long copy = v;
            std::optional<long> none;
            quanta::Select sel;
            sel.send(*ch, copy);
            sel.recv(idle, none);
            try {
              st = sel.wait_for(std::chrono::microseconds(r % 50)) ? SendStatus::Sent
                                                                   : SendStatus::Full;
            } catch (const quanta::UsageError&) {
              st = SendStatus::Closed;
            }
            break;
          }
        }
        if (st == SendStatus::Sent) {
          ++n;
          s += v;
        } else if (st == SendStatus::Closed) {
          refused.fetch_add(1, std::memory_order_relaxed);
          break;
        }
        if (r % 8 == 0) quanta::this_thread::yield();
      }
      accepted.fetch_add(n);
      accepted_sum.fetch_add(s);
    };
    auto receiver = [&](int id) {
      unsigned rng = 0x85ebca6bu * static_cast<unsigned>(id + 1) + static_cast<unsigned>(round);
      long n = 0, s = 0;
      for (;;) {
        const unsigned r = next(rng);
        std::optional<long> v;
        bool closed = false;
        switch (r % 4) {
          case 0:
            v = ch->recv();
            closed = !v;
            break;
          case 1: {
            auto t = ch->try_recv();
            closed = t.status() == RecvStatus::Closed;
            v = std::move(t);
            break;
          }
          case 2: {
            auto t = ch->recv_for(std::chrono::microseconds(r % 50));
            closed = t.status() == RecvStatus::Closed;
            v = std::move(t);
            break;
          }
          default: {
            auto t = quanta::select_for(std::chrono::microseconds(r % 50), *ch, idle);
            if (t) {
              closed = !t->value;
              v = std::move(t->value);
            }
            break;
          }
        }
        if (v) {
          ++n;
          s += *v;
        }
        if (closed) break;
        if (r % 8 == 0) quanta::this_thread::yield();
      }
      received.fetch_add(n);
      received_sum.fetch_add(s);
    };

    for (int i = 0; i < 4; ++i) hs.push_back(rt.spawn([&, i] { sender(i); }));
    for (int i = 0; i < 4; ++i) hs.push_back(rt.spawn([&, i] { receiver(i); }));
    std::thread kernel_side;
    if (round % 8 == 0) kernel_side = std::thread([&] { round % 16 ? sender(4) : receiver(4); });
    hs.push_back(rt.spawn([&] {
      unsigned rng = 0x27d4eb2du + static_cast<unsigned>(round);
      const unsigned yields = next(rng) % 64;
      for (unsigned i = 0; i < yields; ++i) {
        quanta::test::burn(static_cast<int>(next(rng) % 2000));
        quanta::this_thread::yield();
      }
      ch->close();
    }));
    for (auto& h : hs) h.join();
    if (kernel_side.joinable()) kernel_side.join();

    ASSERT_EQ(received.load(), accepted.load()) << "round " << round;
    ASSERT_EQ(received_sum.load(), accepted_sum.load()) << "round " << round;
    EXPECT_EQ(ch->size(), 0u);
    total_accepted += accepted.load();
    total_refused += refused.load();
    rounds_done.fetch_add(1);
  }
  // Every sender ends on a refused send.
  EXPECT_GE(total_refused, 4 * kRounds);
  std::printf("rounds %ld, values through %ld\n", kRounds, total_accepted);
}

// Selects over three channels race each other and plain receivers for the
// values of three producers; every value is taken exactly once.
TEST_P(ChannelStress, CompetingSelectsTakeEachValueOnce) {
  Runtime rt(cfg());
  const long kPer = quanta::test::stress_scaled(200'000, 5'000);
  Channel<long> a(0), b(16), c(quanta::unbounded);
  std::atomic<long> count{0}, sum{0};
  quanta::test::Watchdog dog("select values", [&] { return count.load(); });
  std::vector<quanta::JoinHandle<void>> hs;
  for (int s = 0; s < 8; ++s) {
    hs.push_back(rt.spawn([&, s] {
      bool open[3] = {true, true, true};
      Channel<long>* chans[3] = {&a, &b, &c};
      long n = 0, total = 0;
      while (open[0] || open[1] || open[2]) {
        if (s % 4 == 3) {
          // A plain receiver on one channel for a while.
          const int k = open[0] ? 0 : open[1] ? 1 : 2;
          auto v = chans[k]->recv();
          if (!v) {
            open[k] = false;
          } else {
            ++n;
            total += *v;
          }
          continue;
        }
        std::optional<long> vs[3];
        std::size_t which[3];
        quanta::Select sel;
        for (int k = 0; k < 3; ++k)
          if (open[k]) which[sel.recv(*chans[k], vs[k])] = static_cast<std::size_t>(k);
        const std::size_t k = which[sel.wait()];
        if (!vs[k]) {
          open[k] = false;
        } else {
          ++n;
          total += *vs[k];
        }
      }
      count.fetch_add(n);
      sum.fetch_add(total);
    }));
  }
  long base = 0;
  std::vector<quanta::JoinHandle<void>> ps;
  for (Channel<long>* ch : {&a, &b, &c}) {
    ps.push_back(rt.spawn([ch, base, kPer] {
      for (long i = 0; i < kPer; ++i) ch->send(base + i);
      ch->close();
    }));
    base += kPer;
  }
  for (auto& h : ps) h.join();
  for (auto& h : hs) h.join();
  const long n = 3 * kPer;
  EXPECT_EQ(count.load(), n);
  EXPECT_EQ(sum.load(), n * (n - 1) / 2);
}

INSTANTIATE_TEST_SUITE_P(
    Modes, ChannelStress,
    ::testing::Values(Mode{"WorkStealing", SchedulerKind::WorkStealing, false},
                      Mode{"RoundRobin", SchedulerKind::RoundRobin, false},
                      Mode{"WorkStealingPreempted", SchedulerKind::WorkStealing, true},
                      Mode{"RoundRobinPreempted", SchedulerKind::RoundRobin, true}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
