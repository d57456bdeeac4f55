// quanta — the process-wide stack depot and the per-worker stack caches.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "quanta/error.hpp"
#include "stack.hpp"
#include "stack_directory.hpp"

namespace quanta::detail {
namespace {

std::size_t read_max_map_count() {
  std::size_t n = 65530;
  if (FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r")) {
    unsigned long v = 0;
    if (std::fscanf(f, "%lu", &v) == 1 && v > 0) n = v;
    std::fclose(f);
  }
  return n;
}

// Mappings left for everything that is not a guarded stack: libraries,
// malloc arenas, thread stacks, the user's own mmaps.
constexpr std::size_t kMapReserve = 4096;

// Stacks carved from one mmap: enough to amortise the syscall, few enough
// that a program with a handful of ULTs does not reserve much address space.
std::size_t slab_count(std::size_t stride) {
  constexpr std::size_t kSlabBytes = std::size_t{2} << 20;
  return std::clamp<std::size_t>(kSlabBytes / stride, 1, 64);
}

}  // namespace

std::size_t page_size() noexcept {
  static const std::size_t p = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return p;
}

std::size_t round_to_pages(std::size_t bytes) noexcept {
  std::size_t p = page_size();
  return (bytes + p - 1) / p * p;
}

char* StackMem::guard_begin() const noexcept { return base - page_size(); }

StackPool& StackPool::instance() {
  static StackPool* pool = new StackPool();  // never destroyed: ULT memory may outlive main
  return *pool;
}

StackPool::StackPool() {
  max_map_count_ = read_max_map_count();
  guard_budget_ = max_map_count_ > 2 * kMapReserve ? (max_map_count_ - kMapReserve) / 2 : 0;
}

StackPool::Bucket& StackPool::bucket(std::size_t size) {
  for (auto& b : buckets_)
    if (b.size == size) return b;
  buckets_.push_back(Bucket{size, {}, {}});
  return buckets_.back();
}

void StackPool::map_slab(std::size_t size, bool guarded, bool page_only, Bucket& b) {
  const std::size_t page = page_size();
  const std::size_t stride = size + (guarded ? page : 0);
  std::size_t n = slab_count(stride);
  if (guarded) n = std::min(n, guard_budget_ - guarded_live_);
  void* mem = ::mmap(nullptr, n * stride, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (mem == MAP_FAILED) {
    int err = errno;
    throw ResourceError("quanta: cannot map ULT stacks of " + std::to_string(size) +
                        " bytes: mmap: " + std::strerror(err) + " (stacks mapped: " +
                        std::to_string(guarded_live_ + canary_live_) + ")");
  }
  char* p = static_cast<char*>(mem);
  for (std::size_t i = 0; i < n; ++i, p += stride) {
    StackMem s;
    s.guarded = guarded;
    s.base = guarded ? p + page : p;
    s.size = size;
    if (guarded && ::mprotect(p, page, PROT_NONE) != 0) {
      int err = errno;
      // Out of mappings: what is left of the slab becomes canary stacks.
      guard_budget_ = guarded_live_;
      if (i == 0 && page_only) {
        ::munmap(mem, n * stride);
        throw ResourceError("quanta: cannot add a guard page to a ULT stack: mprotect: " +
                            std::string(std::strerror(err)) + " (guarded stacks: " +
                            std::to_string(guarded_live_) + ", vm.max_map_count=" +
                            std::to_string(max_map_count_) +
                            "); use StackGuard::Canary / QUANTA_STACK_GUARD=canary or raise "
                            "vm.max_map_count");
      }
      // The rest of the slab becomes canary stacks (StackGuard::Auto), each
      // still separated by the unused guard-sized gap.
      for (; i < n; ++i, p += stride) {
        StackMem c;
        c.guarded = false;
        c.base = p + page;
        c.size = size;
        c.slot = StackDirectory::instance().acquire();
        ++canary_live_;
        mapped_bytes_ += size;
        b.hot.push_back(c);
        hot_bytes_ += size;
      }
      break;
    }
    if (guarded)
      ++guarded_live_;
    else
      ++canary_live_;
    mapped_bytes_ += size;
    s.slot = StackDirectory::instance().acquire();
    b.hot.push_back(s);
    hot_bytes_ += size;
  }
}

StackMem StackPool::allocate(std::size_t size, StackGuard mode) {
  std::lock_guard lk(mu_);
  Bucket& b = bucket(size);
  auto take = [&](std::vector<StackMem>& v, bool hot) -> StackMem {
    for (std::size_t i = v.size(); i-- > 0;) {
      if (mode == StackGuard::Page && !v[i].guarded) continue;
      StackMem s = v[i];
      v[i] = v.back();
      v.pop_back();
      if (hot) hot_bytes_ -= s.size;
      return s;
    }
    return {};
  };
  if (StackMem s = take(b.hot, true); s.base) return s;
  if (StackMem s = take(b.cold, false); s.base) return s;
  bool guarded = mode != StackGuard::Canary && guarded_live_ < guard_budget_;
  if (mode == StackGuard::Page && !guarded) {
    throw ResourceError(
        "quanta: no guard page left for a new ULT stack: " + std::to_string(guarded_live_) +
        " guarded stacks use the mapping budget of vm.max_map_count=" +
        std::to_string(max_map_count_) +
        "; use StackGuard::Auto or Canary (QUANTA_STACK_GUARD=auto|canary) or raise "
        "vm.max_map_count");
  }
  map_slab(size, guarded, mode == StackGuard::Page, b);
  StackMem s = take(b.hot, true);
  if (!s.base) {
    throw ResourceError("quanta: cannot allocate a ULT stack of " + std::to_string(size) +
                        " bytes with a guard page (vm.max_map_count=" +
                        std::to_string(max_map_count_) + ")");
  }
  return s;
}

void StackPool::release_locked(const StackMem& s) noexcept {
  Bucket& b = bucket(s.size);
  if (hot_bytes_ + s.size <= kHotBytes) {
    b.hot.push_back(s);
    hot_bytes_ += s.size;
  } else {
    ::madvise(s.base, s.size, MADV_DONTNEED);
    b.cold.push_back(s);
  }
}

void StackPool::release(const StackMem& s) noexcept {
  std::lock_guard lk(mu_);
  release_locked(s);
}

void StackPool::release_batch(const StackMem* s, std::size_t n) noexcept {
  std::lock_guard lk(mu_);
  for (std::size_t i = 0; i < n; ++i) release_locked(s[i]);
}

StackPoolStats StackPool::stats() {
  std::lock_guard lk(mu_);
  StackPoolStats st;
  st.guarded_live = guarded_live_;
  st.canary_live = canary_live_;
  for (auto& b : buckets_) {
    st.hot_cached += b.hot.size();
    st.cold_cached += b.cold.size();
    st.cold_bytes += b.cold.size() * b.size;
  }
  st.mapped_bytes = mapped_bytes_;
  st.guard_budget = guard_budget_;
  return st;
}

void StackPool::set_guard_budget_for_testing(std::size_t n) {
  std::lock_guard lk(mu_);
  guard_budget_ = n;
}

StackCache::~StackCache() { drain(); }

StackMem StackCache::get() {
  if (count_ == 0) {
    // Refill a batch so the next spawns stay off the depot's mutex; a
    // failure after the first stack only makes the batch smaller.
    StackPool& pool = StackPool::instance();
    items_[count_++] = pool.allocate(size_, mode_);
    try {
      for (std::size_t i = 1; i < kBatch; ++i) items_[count_++] = pool.allocate(size_, mode_);
    } catch (const ResourceError&) {
    }
  }
  return items_[--count_];
}

void StackCache::put(const StackMem& s) noexcept {
  if (s.size != size_ || !acceptable(s)) {
    StackPool::instance().release(s);
    return;
  }
  if (count_ == kCapacity) {
    // Spill the oldest half: the newest stay, they are the warmest.
    StackPool::instance().release_batch(items_, kCapacity / 2);
    std::move(items_ + kCapacity / 2, items_ + kCapacity, items_);
    count_ -= kCapacity / 2;
  }
  items_[count_++] = s;
}

void StackCache::drain() noexcept {
  if (count_) StackPool::instance().release_batch(items_, count_);
  count_ = 0;
}

}  // namespace quanta::detail
