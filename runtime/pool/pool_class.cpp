// quanta — a size class of the memory pools: reserved blocks, per-CPU
// magazine caches and the shared depot (see pool_class.hpp).
#include "pool/pool_class.hpp"

#include <malloc.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <utility>

#include "core/no_preempt.hpp"
#include "core/sanitizer.hpp"
#include "core/worker.hpp"
#include "quanta/error.hpp"

namespace quanta::detail {
namespace {

// Slots of a per-CPU class: the CPUs configured, rounded up to a power of two
// (a worker index or CPU number is reduced with a mask).
std::size_t per_cpu_slots() {
  static const std::size_t n = [] {
    const long cpus = ::sysconf(_SC_NPROCESSORS_CONF);
    const std::size_t want = std::clamp<std::size_t>(cpus > 0 ? static_cast<std::size_t>(cpus) : 1,
                                                     1, 1024);
    std::size_t s = 1;
    while (s < want) s <<= 1;
    return s;
  }();
  return n;
}

std::size_t page_bytes() {
  static const std::size_t p = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return p;
}

// Free blocks are poisoned under ASan, so a use after free (or a write past
// the requested size) through a pooled block is reported like one on the heap.
void asan_poison(void* p, std::size_t n) noexcept {
#ifdef QUANTA_ASAN
  __asan_poison_memory_region(p, n);
#else
  (void)p, (void)n;
#endif
}

bool asan_poisoned(void* p) noexcept {
#ifdef QUANTA_ASAN
  return __asan_address_is_poisoned(p) != 0;
#else
  (void)p;
  return false;
#endif
}

}  // namespace

void SpinLock::lock_slow() noexcept {
  for (unsigned spins = 0;; ++spins) {
    if (!locked_.load(std::memory_order_relaxed) &&
        !locked_.exchange(true, std::memory_order_acquire))
      return;
    if (spins < 128)
      arch::cpu_relax();
    else
      ::sched_yield();
  }
}

PoolClass::PoolClass(const char* owner, const char* free_op, const char* name,
                     std::size_t block, std::size_t align, std::size_t capacity, bool per_cpu)
    : owner_(owner),
      free_op_(free_op),
      name_(name),
      block_(block),
      align_(align),
      capacity_(capacity),
      mask_(per_cpu ? per_cpu_slots() - 1 : 0) {
  const std::size_t slots = mask_ + 1;
  mag_size_ = std::clamp<std::size_t>(capacity / (4 * slots), 1, 64);
  mag_stride_ = sizeof(Magazine) + mag_size_ * sizeof(void*);
  mag_total_ = 2 * slots + (capacity + mag_size_ - 1) / mag_size_;
  slots_ = std::make_unique<Slot[]>(slots);

  range_ = capacity * block;
  const std::size_t page = page_bytes();
  const std::size_t mags_offset =
      (range_ + alignof(Magazine) - 1) / alignof(Magazine) * alignof(Magazine);
  map_bytes_ = (mags_offset + mag_total_ * mag_stride_ + page - 1) / page * page;
  void* mem = ::mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) {
    const int err = errno;
    throw ResourceError(std::string("quanta: ") + owner_ + ": cannot reserve " +
                        std::to_string(map_bytes_) + " bytes for the " + name_ + " class (" +
                        std::to_string(capacity) + " blocks of " + std::to_string(block) +
                        " bytes): mmap: " + std::strerror(err) +
                        "; lower the capacity or the object size");
  }
  base_ = static_cast<char*>(mem);
  mags_ = base_ + mags_offset;
  pool_reserved_bytes.fetch_add(map_bytes_, std::memory_order_relaxed);
  asan_poison(base_, range_);
  for (std::size_t i = 0; i < slots; ++i) {
    slots_[i].loaded = new_magazine();
    slots_[i].previous = new_magazine();
  }
}

PoolClass::Magazine* PoolClass::new_magazine() noexcept {
  if (Magazine* e = depot_.empty) {
    depot_.empty = e->next;
    return e;
  }
  if (depot_.mags_used == mag_total_) return nullptr;
  return ::new (mags_ + depot_.mags_used++ * mag_stride_) Magazine();
}

PoolClass::~PoolClass() {
#ifndef NDEBUG
  const PoolClassStats st = stats();
  if (st.allocated != 0) {
    std::fprintf(stderr,
                 "quanta: %s destroyed while %zu blocks of its %s class (%zu bytes each) are "
                 "still allocated; free every block before destroying the pool\n",
                 owner_, st.allocated, name_, block_);
    std::abort();
  }
#endif
  // The shadow of an unmapped range must not stay poisoned: the next mapping
  // at the same address would inherit it.
  asan_unpoison(base_, range_);
  ::munmap(base_, map_bytes_);
  pool_reserved_bytes.fetch_sub(map_bytes_, std::memory_order_relaxed);
}

void PoolClass::misuse(const void* p, const char* what) const noexcept {
  std::fprintf(stderr, "quanta: %s(%p): %s (%s class, blocks of %zu bytes)\n", free_op_, p,
               what, name_, block_);
  std::abort();
}

PoolClass::Slot& PoolClass::slot_for(Worker* w) const noexcept {
  if (mask_ == 0) return slots_[0];
  std::size_t key;
  if (w) {
    key = w->index;
  } else {
    const int cpu = ::sched_getcpu();
    key = cpu >= 0 ? static_cast<std::size_t>(cpu) : 0;
  }
  return slots_[key & mask_];
}

void* PoolClass::take(Slot& s) noexcept {
  Magazine* m = s.loaded;
  if (m->count == 0) {
    if (s.previous->count != 0) {
      std::swap(s.loaded, s.previous);
    } else {
      std::lock_guard lk(depot_.mu);
      if (Magazine* full = depot_.full) {
        // Trade the empty previous for a full magazine.
        depot_.full = full->next;
        --depot_.full_count;
        s.previous->next = depot_.empty;
        depot_.empty = s.previous;
        s.previous = s.loaded;
        s.loaded = full;
      } else {
        const std::size_t n = std::min(mag_size_, capacity_ - depot_.fresh_next);
        if (n == 0) return nullptr;  // every block is in use or cached elsewhere
        // Highest address at the bottom: pops hand out ascending addresses.
        char* first = base_ + depot_.fresh_next * block_;
        for (std::size_t i = 0; i < n; ++i) m->items()[i] = first + (n - 1 - i) * block_;
        m->count = n;
        depot_.fresh_next += n;
      }
    }
    m = s.loaded;
  }
  ++s.allocs;
  return m->items()[--m->count];
}

void PoolClass::put(Slot& s, void* p) noexcept {
  Magazine* m = s.loaded;
  if (m->count == mag_size_) {
    if (s.previous->count == 0) {
      std::swap(s.loaded, s.previous);
    } else {
      std::lock_guard lk(depot_.mu);
      // Never null while every block is freed once (see pool_class.hpp).
      Magazine* e = new_magazine();
      if (!e) misuse(p, "more blocks freed than the class owns: a block freed twice?");
      s.previous->next = depot_.full;
      depot_.full = s.previous;
      ++depot_.full_count;
      s.previous = s.loaded;
      s.loaded = e;
    }
    m = s.loaded;
  }
  m->items()[m->count++] = p;
  ++s.frees;
}

void* PoolClass::allocate(std::size_t bytes) {
  void* p;
  {
    RuntimeSection section;
    Slot& s = slot_for(section.worker());
    s.lock.lock();
    p = take(s);
    s.lock.unlock();
  }
  if (!p) [[unlikely]]
    return allocate_fallback();
  asan_unpoison(p, std::max<std::size_t>(bytes, 1));
  return p;
}

void* PoolClass::allocate_fallback() {
  void* p = align_ <= alignof(std::max_align_t) ? std::malloc(block_)
                                                 : std::aligned_alloc(align_, block_);
  if (!p) throw std::bad_alloc();
  fallbacks_.fetch_add(1, std::memory_order_relaxed);
  return p;
}

void PoolClass::deallocate(void* p) noexcept {
  if (!owns(p)) {
#ifndef NDEBUG
    if (::malloc_usable_size(p) < block_)
      misuse(p, "the allocation is smaller than a block of this class: freed with a larger "
                "size than it was allocated with?");
#endif
    std::free(p);
    fallback_frees_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
#ifndef NDEBUG
  if ((static_cast<char*>(p) - base_) % block_ != 0)
    misuse(p, "points inside a block, not at its start");
#endif
  if (asan_poisoned(p)) misuse(p, "the block is already free (freed twice?)");
  asan_poison(p, block_);
  RuntimeSection section;
  Slot& s = slot_for(section.worker());
  s.lock.lock();
  put(s, p);
  s.lock.unlock();
}

PoolClassStats PoolClass::stats() const {
  PoolClassStats st;
  st.object_size = block_;
  st.capacity = capacity_;
  std::uint64_t allocs = 0, frees = 0;
  std::size_t cached = 0;
  {
    RuntimeSection section;  // the locks are never held by a preemptible ULT
    for (std::size_t i = 0; i <= mask_; ++i) {
      Slot& s = slots_[i];
      s.lock.lock();
      allocs += s.allocs;
      frees += s.frees;
      cached += s.loaded->count + s.previous->count;
      s.lock.unlock();
    }
    std::lock_guard lk(depot_.mu);
    cached += depot_.full_count * mag_size_;
    st.fresh = capacity_ - depot_.fresh_next;
  }
  const std::uint64_t fb_frees = fallback_frees_.load(std::memory_order_relaxed);
  const std::uint64_t fb = fallbacks_.load(std::memory_order_relaxed);
  // Differences of counters read at different moments: never below zero.
  const std::uint64_t pooled_live = allocs >= frees ? allocs - frees : 0;
  const std::uint64_t fb_live = fb >= fb_frees ? fb - fb_frees : 0;
  st.cached = cached;
  st.allocated = static_cast<std::size_t>(pooled_live + fb_live);
  st.fallback_allocated = static_cast<std::size_t>(fb_live);
  st.allocations = allocs + fb;
  st.fallbacks = fb;
  return st;
}

}  // namespace quanta::detail
