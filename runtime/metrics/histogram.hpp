// quanta — a log-linear histogram of durations in cycle-counter ticks.
//
// Bucket b covers [lower(b), lower(b+1)): values below kSub get one bucket
// each; above, each power of two is split into kSub equal sub-buckets, so a
// value is placed within 1/kSub (12.5%) of its size. 8 sub-buckets x 62
// groups = 496 counters, under 4 KiB.
//
// One writer (the worker that owns it), any number of readers: counters are
// relaxed atomics written with plain load + store, so a reader may see a
// sample in `count` a little before or after its bucket; percentiles are
// computed from a snapshot and are exact up to the bucket width.
#pragma once
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>

namespace quanta::detail {

class LatencyHistogram {
 public:
  static constexpr unsigned kSubBits = 3;
  static constexpr unsigned kSub = 1u << kSubBits;
  // Values 0 .. kSub-1, then one group of kSub per most significant bit
  // kSubBits .. 63.
  static constexpr unsigned kBuckets = (64 - kSubBits + 1) * kSub;

  // The bucket of value v.
  static constexpr unsigned bucket_of(std::uint64_t v) noexcept {
    if (v < kSub) return static_cast<unsigned>(v);
    const unsigned msb = 63u - static_cast<unsigned>(std::countl_zero(v));  // >= kSubBits
    const unsigned sub = static_cast<unsigned>(v >> (msb - kSubBits)) & (kSub - 1);
    return (msb - kSubBits + 1) * kSub + sub;
  }
  // The smallest value in bucket b.
  static constexpr std::uint64_t lower(unsigned b) noexcept {
    if (b < kSub) return b;
    const unsigned msb = b / kSub + kSubBits - 1;
    return (std::uint64_t{1} << msb) | (std::uint64_t{b % kSub} << (msb - kSubBits));
  }
  // One past the largest value in bucket b (saturating at the top).
  static constexpr std::uint64_t upper(unsigned b) noexcept {
    return b + 1 < kBuckets ? lower(b + 1) : UINT64_MAX;
  }

  // Owner only.
  void add(std::uint64_t v) noexcept {
    bump(counts_[bucket_of(v)], 1);
    bump(sum_, v);
    bump(count_, 1);
  }

  // A copy to compute with (any thread).
  struct Snapshot {
    std::array<std::uint64_t, kBuckets> counts{};
    std::uint64_t count = 0;
    std::uint64_t sum = 0;

    void merge(const Snapshot& o) noexcept {
      for (unsigned b = 0; b < kBuckets; ++b) counts[b] += o.counts[b];
      count += o.count;
      sum += o.sum;
    }
    // The mean, exactly (0 when empty).
    double mean() const noexcept {
      return count ? static_cast<double>(sum) / static_cast<double>(count) : 0.0;
    }
    // The value below which a fraction q (0..1) of the samples lie: the
    // middle of the bucket holding that rank (0 when empty). The small
    // buckets hold one tick value v each, i.e. durations in [v, v + 1).
    double percentile(double q) const noexcept {
      std::uint64_t total = 0;
      for (const std::uint64_t c : counts) total += c;
      if (total == 0) return 0.0;
      if (q < 0) q = 0;
      if (q > 1) q = 1;
      // The rank (1-based) of the sample wanted.
      std::uint64_t rank = static_cast<std::uint64_t>(q * static_cast<double>(total) + 0.5);
      if (rank < 1) rank = 1;
      if (rank > total) rank = total;
      std::uint64_t seen = 0;
      for (unsigned b = 0; b < kBuckets; ++b) {
        seen += counts[b];
        if (seen >= rank) {
          const double lo = static_cast<double>(lower(b));
          const double hi = static_cast<double>(upper(b));
          return (lo + hi) / 2;  // a value below one tick is reported as half a tick
        }
      }
      return static_cast<double>(lower(kBuckets - 1));
    }
  };

  Snapshot snapshot() const noexcept {
    Snapshot s;
    for (unsigned b = 0; b < kBuckets; ++b) s.counts[b] = counts_[b].load(std::memory_order_relaxed);
    s.count = count_.load(std::memory_order_relaxed);
    s.sum = sum_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  static void bump(std::atomic<std::uint64_t>& a, std::uint64_t by) noexcept {
    a.store(a.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  std::array<std::atomic<std::uint64_t>, kBuckets> counts_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_{0};
};

}  // namespace quanta::detail
