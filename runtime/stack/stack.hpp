// quanta — ULT stacks: mmap'd slabs, guard pages or canaries, a process-wide
// depot and per-worker caches.
//
// Memory layout of one guarded stack inside a slab (addresses grow upward):
//
//   [ guard page (PROT_NONE) ][ usable: base .. base+size            ]
//                                ^ canary word (canary stacks only)   ^ top
//
// The ULT's control block, its task and its name are placed at the top of the
// usable range by the spawner; the context starts below them.
//
// Mapping budget: every guarded stack splits its slab's mapping into two VMAs,
// and Linux caps VMAs per process at vm.max_map_count (65530 by default). The
// pool hands out guarded stacks while fewer than half of that budget (minus a
// reserve for the rest of the process) is in use, then, in StackGuard::Auto,
// canary stacks whose slabs are single mappings; StackGuard::Page throws a
// ResourceError instead of failing later at random.
//
// Who may call what: StackPool is thread-safe (one mutex, off the hot path).
// A StackCache belongs to one worker and is only touched on that worker.
#pragma once
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "quanta/config.hpp"

namespace quanta::detail {

inline constexpr std::uint64_t kStackCanary = 0x5175616e74614f46ull;  // "QuantaOF"

struct StackMem {
  char* base = nullptr;    // lowest usable byte
  std::size_t size = 0;    // usable bytes (a multiple of the page size)
  bool guarded = false;    // a PROT_NONE page sits right below base
  bool dedicated = false;  // a mapping of its own: unmap_dedicated_stack, never pooled
  std::uint32_t slot = ~std::uint32_t{0};  // in the StackDirectory (stack_directory.hpp)

  char* top() const noexcept { return base + size; }
  char* guard_begin() const noexcept;  // only when guarded
};

std::size_t page_size() noexcept;
// Rounds bytes up to whole pages.
std::size_t round_to_pages(std::size_t bytes) noexcept;

struct StackPoolStats {
  std::size_t guarded_live = 0;    // guarded stacks mapped (in use or cached)
  std::size_t canary_live = 0;     // canary stacks mapped
  std::size_t hot_cached = 0;      // stacks in the depot with their pages kept
  std::size_t cold_cached = 0;     // stacks in the depot returned to the kernel
  std::size_t guard_budget = 0;    // guarded stacks allowed by vm.max_map_count
  std::size_t mapped_bytes = 0;    // usable bytes of every stack mapped
  std::size_t cold_bytes = 0;      // of which, in the depot with pages returned
};

// Process-wide: ULT memory outlives any one Runtime (a JoinHandle may be
// joined after its runtime is gone), so stacks belong to the process.
class StackPool {
 public:
  static StackPool& instance();

  // A stack of `size` usable bytes (already page-rounded). Throws
  // ResourceError (message names the size and the limit) when none can be had.
  StackMem allocate(std::size_t size, StackGuard mode);
  // Takes a stack back. Above the hot watermark its pages go back to the
  // kernel (MADV_DONTNEED) but the mapping is kept for reuse.
  void release(const StackMem& s) noexcept;
  void release_batch(const StackMem* s, std::size_t n) noexcept;

  StackPoolStats stats();
  // Test hook: pretend the mapping budget allows only `n` guarded stacks.
  void set_guard_budget_for_testing(std::size_t n);

  // Stacks kept with their pages resident; the rest are MADV_DONTNEED'd.
  static constexpr std::size_t kHotBytes = std::size_t{64} << 20;

 private:
  StackPool();
  struct Bucket {
    std::size_t size;
    std::vector<StackMem> hot;   // pages resident
    std::vector<StackMem> cold;  // pages returned to the kernel
  };
  Bucket& bucket(std::size_t size);
  void map_slab(std::size_t size, bool guarded, bool page_only, Bucket& b);
  void release_locked(const StackMem& s) noexcept;

  std::mutex mu_;
  std::vector<Bucket> buckets_;
  std::size_t hot_bytes_ = 0;
  std::size_t guarded_live_ = 0;
  std::size_t canary_live_ = 0;
  std::size_t mapped_bytes_ = 0;
  std::size_t guard_budget_ = 0;
  std::size_t max_map_count_ = 0;
};

// A stack with a mapping of its own, for ULTs whose stack memory has a policy
// that must not leak to other ULTs through the pool (a NUMA binding, huge
// pages). `size` is page-rounded. With `huge`, the top of the stack (where
// the ULT's frames are) is aligned to `huge_align` and the usable range is
// advised MADV_HUGEPAGE. A guard page below it unless mode is Canary (under
// Auto, a refused guard page makes it a canary stack; under Page it is a
// ResourceError, as is a refused mapping). Thread-safe; no pool lock.
StackMem map_dedicated_stack(std::size_t size, StackGuard mode, bool huge,
                             std::size_t huge_align);
// Unmaps a stack from map_dedicated_stack.
void unmap_dedicated_stack(const StackMem& s) noexcept;

// One worker's cache of stacks of its runtime's default size: a LIFO (the
// most recently freed stack is the most likely to be in cache), refilled from
// and spilled to the depot in batches.
class StackCache {
 public:
  explicit StackCache(std::size_t size, StackGuard mode) : size_(size), mode_(mode) {}
  ~StackCache();
  StackCache(const StackCache&) = delete;
  StackCache& operator=(const StackCache&) = delete;

  std::size_t stack_size() const noexcept { return size_; }
  StackMem get();
  void put(const StackMem& s) noexcept;
  void drain() noexcept;

  static constexpr std::size_t kCapacity = 64;
  static constexpr std::size_t kBatch = 16;

 private:
  bool acceptable(const StackMem& s) const noexcept {
    return mode_ != StackGuard::Page || s.guarded;
  }
  std::size_t size_;
  StackGuard mode_;
  std::size_t count_ = 0;
  StackMem items_[kCapacity];
};

}  // namespace quanta::detail
