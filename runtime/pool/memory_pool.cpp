// quanta — MemoryPool (small / medium classes, larger requests to the system
// allocator), MemoryPoolConfig validation, and the entry points ObjectPool<T>
// uses.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include "pool/pool_class.hpp"
#include "quanta/error.hpp"
#include "quanta/pool.hpp"

namespace quanta {
namespace {

std::string range(unsigned long long lo, unsigned long long hi) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "[%llu, %llu]", lo, hi);
  return buf;
}

void check_size(const char* field, std::size_t v) {
  if (v < 1 || v > kMaxPoolObjectSize)
    throw ConfigError(std::string("quanta: MemoryPoolConfig::") + field + " = " +
                      std::to_string(v) + " bytes is outside the accepted range " +
                      range(1, kMaxPoolObjectSize));
}

void check_capacity(const char* field, std::size_t v) {
  if (v < 1 || v > kMaxPoolCapacity)
    throw ConfigError(std::string("quanta: MemoryPoolConfig::") + field + " = " +
                      std::to_string(v) + " blocks is outside the accepted range " +
                      range(1, kMaxPoolCapacity));
}

// MemoryPool blocks are aligned like malloc's.
constexpr std::size_t kBlockAlign = alignof(std::max_align_t);

constexpr std::size_t block_for(std::size_t bytes) {
  return (bytes + kBlockAlign - 1) / kBlockAlign * kBlockAlign;
}

}  // namespace

void MemoryPoolConfig::validate() const {
  check_size("small_object_size", small_object_size);
  check_size("medium_object_size", medium_object_size);
  if (small_object_size >= medium_object_size)
    throw ConfigError("quanta: MemoryPoolConfig::small_object_size = " +
                      std::to_string(small_object_size) +
                      " bytes is not below medium_object_size = " +
                      std::to_string(medium_object_size) +
                      " bytes; expected small_object_size < medium_object_size");
  check_capacity("small_pool_capacity", small_pool_capacity);
  check_capacity("medium_pool_capacity", medium_pool_capacity);
}

struct MemoryPool::Impl {
  explicit Impl(const MemoryPoolConfig& c)
      : cfg(c),
        small("MemoryPool", "MemoryPool::deallocate", "small", block_for(c.small_object_size),
              kBlockAlign, c.small_pool_capacity, c.per_cpu),
        medium("MemoryPool", "MemoryPool::deallocate", "medium",
               block_for(c.medium_object_size), kBlockAlign, c.medium_pool_capacity, c.per_cpu) {}

  const MemoryPoolConfig cfg;
  detail::PoolClass small;
  detail::PoolClass medium;
  // Requests above medium_object_size (system allocator).
  std::atomic<std::uint64_t> large_allocs{0};
  std::atomic<std::uint64_t> large_frees{0};

  [[noreturn]] void mismatch(void* p, std::size_t bytes, const detail::PoolClass& owner,
                             const char* selected) const noexcept {
    std::fprintf(stderr,
                 "quanta: MemoryPool::deallocate(%p, %zu): the block was allocated from the %s "
                 "class (blocks of %zu bytes) but this size selects the %s class; pass the "
                 "size that was given to allocate\n",
                 p, bytes, owner.name(), owner.block_size(), selected);
    std::abort();
  }
};

MemoryPool::MemoryPool() : MemoryPool(MemoryPoolConfig{}) {}

MemoryPool::MemoryPool(const MemoryPoolConfig& cfg) {
  cfg.validate();
  impl_ = new Impl(cfg);
}

MemoryPool::~MemoryPool() {
#ifndef NDEBUG
  const std::uint64_t large_live = impl_->large_allocs.load(std::memory_order_relaxed) -
                                   impl_->large_frees.load(std::memory_order_relaxed);
  if (large_live != 0) {
    std::fprintf(stderr,
                 "quanta: MemoryPool destroyed while %llu blocks above medium_object_size = %zu "
                 "bytes are still allocated; free every block before destroying the pool\n",
                 static_cast<unsigned long long>(large_live), impl_->cfg.medium_object_size);
    std::abort();
  }
#endif
  delete impl_;
}

void* MemoryPool::allocate(std::size_t bytes) {
  Impl& m = *impl_;
  if (bytes <= m.cfg.small_object_size) return m.small.allocate(bytes);
  if (bytes <= m.cfg.medium_object_size) return m.medium.allocate(bytes);
  void* p = std::malloc(bytes);
  if (!p) throw std::bad_alloc();
  m.large_allocs.fetch_add(1, std::memory_order_relaxed);
  return p;
}

void MemoryPool::deallocate(void* p, std::size_t bytes) noexcept {
  if (!p) return;
  Impl& m = *impl_;
  if (bytes <= m.cfg.small_object_size) {
#ifndef NDEBUG
    if (m.medium.owns(p)) m.mismatch(p, bytes, m.medium, "small");
#endif
    m.small.deallocate(p);
  } else if (bytes <= m.cfg.medium_object_size) {
#ifndef NDEBUG
    if (m.small.owns(p)) m.mismatch(p, bytes, m.small, "medium");
#endif
    m.medium.deallocate(p);
  } else {
#ifndef NDEBUG
    if (m.small.owns(p)) m.mismatch(p, bytes, m.small, "large (system allocator)");
    if (m.medium.owns(p)) m.mismatch(p, bytes, m.medium, "large (system allocator)");
#endif
    std::free(p);
    m.large_frees.fetch_add(1, std::memory_order_relaxed);
  }
}

MemoryPoolStats MemoryPool::stats() const {
  const Impl& m = *impl_;
  MemoryPoolStats st;
  st.small = m.small.stats();
  st.medium = m.medium.stats();
  const std::uint64_t frees = m.large_frees.load(std::memory_order_relaxed);
  const std::uint64_t allocs = m.large_allocs.load(std::memory_order_relaxed);
  st.large.allocations = allocs;
  st.large.fallbacks = allocs;
  st.large.allocated = static_cast<std::size_t>(allocs >= frees ? allocs - frees : 0);
  st.large.fallback_allocated = st.large.allocated;
  return st;
}

const MemoryPoolConfig& MemoryPool::config() const noexcept { return impl_->cfg; }

namespace detail {

void PoolClassDeleter::operator()(PoolClass* c) const noexcept { delete c; }

PoolClassPtr make_pool_class(const char* owner, std::size_t size, std::size_t align,
                             std::size_t capacity, bool per_cpu) {
  if (capacity < 1 || capacity > kMaxPoolCapacity)
    throw ConfigError(std::string("quanta: ") + owner + " capacity = " +
                      std::to_string(capacity) + " objects is outside the accepted range " +
                      range(1, kMaxPoolCapacity));
  if (align == 0 || (align & (align - 1)) != 0 || align > 4096 || size == 0 || size % align != 0)
    throw ConfigError(std::string("quanta: ") + owner + " object size " + std::to_string(size) +
                      " / alignment " + std::to_string(align) +
                      " is not supported; expected a power-of-two alignment up to 4096 and a "
                      "size that is a non-zero multiple of it");
  // Far below what any supported ISA's user address space holds (47 bits on
  // x86_64, 39 bits with RISC-V Sv39); mmap reports anything between.
  constexpr std::size_t kMaxReservation = std::size_t{1} << 46;
  std::size_t bytes = 0;
  if (__builtin_mul_overflow(size, capacity, &bytes) || bytes > kMaxReservation)
    throw ConfigError(std::string("quanta: ") + owner + " capacity = " +
                      std::to_string(capacity) + " objects of " + std::to_string(size) +
                      " bytes exceeds the " + std::to_string(kMaxReservation >> 40) +
                      " TiB a pool may reserve; lower the capacity");
  return PoolClassPtr(new PoolClass(owner, "ObjectPool::destroy", "object", size, align,
                                    capacity, per_cpu));
}

void* pool_class_allocate(PoolClass& c, std::size_t bytes) { return c.allocate(bytes); }

void pool_class_deallocate(PoolClass& c, void* p) noexcept { c.deallocate(p); }

PoolClassStats pool_class_stats(const PoolClass& c) { return c.stats(); }

}  // namespace detail
}  // namespace quanta
