// quanta — memory pools: MemoryPool (small and medium size classes, larger
// requests to the system allocator) and ObjectPool<T> (one class sized for T).
//
// Every size class owns a fixed number of blocks (its capacity), reserved as
// one address range when the pool is built; pages are touched only when a
// block is first handed out, so a class's resident memory never exceeds
// capacity x block size, plus at most 8 bytes per block for the caches'
// pointer arrays. Free blocks sit in small per-CPU caches (two
// "magazines" per slot) and in a shared depot that takes and gives whole
// magazines, so the common allocate/free touches one uncontended cache. When
// every block of a class is in use (or cached by another slot), the request
// falls back to the system allocator; such a block goes straight back to the
// system when it is freed. Both are counted in the stats.
//
// Cache slots are chosen per call: a ULT (or a worker's own context) uses the
// slot of the worker it runs on, a kernel thread the slot of the CPU it runs on
// (sched_getcpu). The slot is picked and used without preemption, so a ULT
// that is preempted and moved between two calls simply uses another slot; a
// block may be freed on any worker or thread, not only where it was allocated.
// With per_cpu = false there is a single shared slot.
//
// Who may call what:
//
// | call                                         | from                                  |
// |----------------------------------------------|---------------------------------------|
// | MemoryPool / ObjectPool constructor          | any thread or ULT                     |
// | allocate, deallocate, create, destroy,       | any ULT on any worker of any Runtime, |
// | make_unique (and its deleter), stats         | and any kernel thread, concurrently   |
// | destructor                                   | one caller, once no block is in use   |
// | any of the above from a signal handler       | never (not async-signal-safe)         |
//
// A pool must outlive every block it handed out. A block must be returned to
// the pool it came from: MemoryPool::deallocate with the same size that was
// given to allocate, ObjectPool::destroy (or the make_unique deleter) for
// objects of create/make_unique.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace quanta {

// Largest object size a MemoryPool size class accepts, in bytes.
inline constexpr std::size_t kMaxPoolObjectSize = std::size_t{64} << 10;
// Largest capacity (blocks) of one size class.
inline constexpr std::size_t kMaxPoolCapacity = std::size_t{1} << 24;

// Counters of one size class. Exact while no allocation or free runs
// concurrently; a snapshot taken during concurrent use may be off by the
// operations in flight. When quiescent:
//   allocated - fallback_allocated + cached + fresh == capacity.
struct PoolClassStats {
  std::size_t object_size = 0;         // bytes per block (0: the large class)
  std::size_t capacity = 0;            // blocks the class owns (0: the large class)
  std::size_t allocated = 0;           // blocks handed out and not yet freed
  std::size_t cached = 0;              // free blocks in the per-CPU caches and the depot
  std::size_t fresh = 0;               // blocks never handed out nor cached yet (they
                                       // enter a cache a magazine, up to 64, at a time)
  std::size_t fallback_allocated = 0;  // of `allocated`, blocks from the system allocator
  std::uint64_t allocations = 0;       // allocations since the pool was built
  std::uint64_t fallbacks = 0;         // of those, served by the system allocator
};

// MemoryPool::stats(). `large` counts requests above medium_object_size, all
// of which go to the system allocator (allocations == fallbacks).
struct MemoryPoolStats {
  PoolClassStats small;
  PoolClassStats medium;
  PoolClassStats large;
};

struct MemoryPoolConfig {
  // Requests of at most this many bytes use the small class.
  std::size_t small_object_size = 64;
  // Blocks the small class owns (in use + cached).
  std::size_t small_pool_capacity = 4096;
  // Requests above small_object_size and up to this many bytes use the
  // medium class; larger ones go to the system allocator.
  std::size_t medium_object_size = 1024;
  std::size_t medium_pool_capacity = 1024;
  // One cache per worker / CPU (true), or a single shared cache (false).
  bool per_cpu = true;

  // Throws ConfigError naming the first field outside its accepted range:
  // object sizes in [1, kMaxPoolObjectSize] with small_object_size <
  // medium_object_size, capacities in [1, kMaxPoolCapacity].
  void validate() const;
};

// A general-purpose pool for variable-sized requests.
//
// allocate(bytes):  bytes <= small_object_size  -> small class
//                   bytes <= medium_object_size -> medium class
//                   larger                      -> the system allocator
// A class with no free block left falls back to the system allocator (the
// request still succeeds). Memory is aligned to alignof(std::max_align_t).
// std::bad_alloc is thrown only when the system allocator fails.
//
// deallocate(p, bytes) must be given the same `bytes` as the allocate that
// returned p (it selects the class, as in sized operator delete). When the
// quanta library is built without NDEBUG it checks this where it costs no
// more than an address comparison or malloc_usable_size: a pooled block freed
// with a size of another class, a block freed with a size larger than its
// class, or a pointer inside a class's reserved range that is not a block
// start print a message and abort. Under AddressSanitizer the unused part of
// a block and every free block are poisoned, and a pooled block freed twice
// is reported.
class MemoryPool {
 public:
  // MemoryPoolConfig{} (the defaults above).
  MemoryPool();
  // Validates cfg (ConfigError names the bad field) and reserves the classes'
  // address ranges (ResourceError if the system refuses them).
  explicit MemoryPool(const MemoryPoolConfig& cfg);
  // Every block must have been freed (a library built without NDEBUG
  // reports it and aborts otherwise).
  ~MemoryPool();
  MemoryPool(const MemoryPool&) = delete;
  MemoryPool& operator=(const MemoryPool&) = delete;

  // Never null; allocate(0) returns a distinct small block.
  [[nodiscard]] void* allocate(std::size_t bytes);
  // p may be null (no effect).
  void deallocate(void* p, std::size_t bytes) noexcept;

  MemoryPoolStats stats() const;
  const MemoryPoolConfig& config() const noexcept;

 private:
  struct Impl;
  Impl* impl_;
};

namespace detail {

// One size class (runtime/pool/pool_class.hpp), the machinery under both pools.
class PoolClass;
struct PoolClassDeleter {
  void operator()(PoolClass* c) const noexcept;
};
using PoolClassPtr = std::unique_ptr<PoolClass, PoolClassDeleter>;

// A class of `capacity` blocks of `size` bytes aligned to `align` (a power of
// two, at most a page; size a multiple of align). Throws ConfigError naming
// `owner` when capacity is outside [1, kMaxPoolCapacity], ResourceError when
// the address range cannot be reserved.
PoolClassPtr make_pool_class(const char* owner, std::size_t size, std::size_t align,
                             std::size_t capacity, bool per_cpu);
// A block of the class (`bytes` <= size is what the caller will use). Throws
// std::bad_alloc only when the system allocator fails.
void* pool_class_allocate(PoolClass& c, std::size_t bytes);
void pool_class_deallocate(PoolClass& c, void* p) noexcept;
PoolClassStats pool_class_stats(const PoolClass& c);

}  // namespace detail

// A pool of T objects: one size class of sizeof(T) (rounded up to a multiple
// of max(alignof(T), 8)) with up to `capacity` blocks owned and cached; more
// objects than that at once come from the system allocator (counted in
// stats().fallbacks). Objects may be destroyed on any worker or thread.
template <class T>
class ObjectPool {
  static_assert(std::is_object_v<T> && !std::is_array_v<T> && !std::is_const_v<T>,
                "ObjectPool<T> holds complete, non-const, non-array object types");
  static_assert(alignof(T) <= 4096, "ObjectPool<T> supports alignments up to 4096 bytes");

 public:
  static constexpr std::size_t kDefaultCapacity = 1024;
  static constexpr std::size_t kAlign = alignof(T) > 8 ? alignof(T) : 8;
  static constexpr std::size_t kBlockSize = (sizeof(T) + kAlign - 1) / kAlign * kAlign;

  // Throws ConfigError when capacity is outside [1, kMaxPoolCapacity].
  explicit ObjectPool(std::size_t capacity = kDefaultCapacity, bool per_cpu = true)
      : class_(detail::make_pool_class("ObjectPool", kBlockSize, kAlign, capacity, per_cpu)) {}
  // Every object must have been destroyed (a library built without NDEBUG
  // reports it and aborts otherwise).
  ~ObjectPool() = default;
  ObjectPool(const ObjectPool&) = delete;
  ObjectPool& operator=(const ObjectPool&) = delete;

  // A T constructed from args in a block of the pool: T(args...), or
  // T{args...} for an aggregate where the compiler lacks parenthesised
  // aggregate initialisation. If T's constructor throws, the block goes back
  // to the pool and the exception propagates.
  template <class... A>
  [[nodiscard]] T* create(A&&... args) {
    void* mem = detail::pool_class_allocate(*class_, sizeof(T));
    try {
      if constexpr (std::is_constructible_v<T, A&&...>)
        return ::new (mem) T(std::forward<A>(args)...);
      else
        return ::new (mem) T{std::forward<A>(args)...};
    } catch (...) {
      detail::pool_class_deallocate(*class_, mem);
      throw;
    }
  }

  // Destroys *p and returns its block; p must come from this pool's create
  // (or be null: no effect). The block is returned even if ~T throws.
  void destroy(T* p) noexcept(std::is_nothrow_destructible_v<T>) {
    if (!p) return;
    if constexpr (std::is_nothrow_destructible_v<T>) {
      p->~T();
      detail::pool_class_deallocate(*class_, p);
    } else {
      struct Release {
        detail::PoolClass& c;
        void* p;
        ~Release() { detail::pool_class_deallocate(c, p); }
      } release{*class_, p};
      p->~T();
    }
  }

  // Returns objects to the pool they came from; the pool must outlive them.
  struct Deleter {
    ObjectPool* pool = nullptr;
    void operator()(T* p) const noexcept(std::is_nothrow_destructible_v<T>) {
      pool->destroy(p);
    }
  };
  using UniquePtr = std::unique_ptr<T, Deleter>;

  template <class... A>
  [[nodiscard]] UniquePtr make_unique(A&&... args) {
    return UniquePtr(create(std::forward<A>(args)...), Deleter{this});
  }

  PoolClassStats stats() const { return detail::pool_class_stats(*class_); }

 private:
  detail::PoolClassPtr class_;
};

}  // namespace quanta
