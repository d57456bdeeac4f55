// quanta — one size class of the memory pools: a reserved range of blocks,
// per-CPU magazine caches and a shared depot.
//
// Blocks. A class owns `capacity` blocks of `block` bytes, carved from one
// anonymous mapping (MAP_NORESERVE) in address order the first time they are
// needed (`fresh_next`). Whether a pointer is a pooled block is one address
// comparison, so blocks carry no header. Requests the class cannot serve from
// its blocks go to the system allocator (malloc / aligned_alloc) and are freed
// straight back to it.
//
// Magazines (Bonwick & Adams, USENIX 2001). A magazine is an array of up to
// `mag_size` free-block pointers. Every slot always holds two: `loaded`
// (any fill) and `previous` (always full or empty). allocate pops from loaded;
// if it is empty and previous is full the two swap; if both are empty the slot
// trades its empty previous for a full magazine from the depot, and if the
// depot has none it carves up to mag_size fresh blocks into loaded. free
// pushes onto loaded; if it is full and previous is empty they swap; if both
// are full the slot gives previous to the depot and takes an empty magazine.
// Only whole magazines move, in O(1) under the depot lock.
//
// Magazine count. The mapping that holds the blocks also holds, after them,
// room for 2 magazines per slot plus ceil(capacity / mag_size) for the depot;
// the depot hands out that room in order when it has no empty magazine to
// give, so the pages are touched only as far as magazines are used. It never
// runs out: a slot spills only when it holds 2 * mag_size blocks plus the one
// being freed, so before the spill the depot's full magazines hold at most
// capacity - 2 * mag_size - 1 blocks, i.e. fewer than
// ceil(capacity / mag_size) - 1 magazines, and one more is left to take.
// Neither path allocates memory, so free never fails.
//
// Sizing. mag_size = clamp(capacity / (4 * slots), 1, 64): the blocks the
// slots can hold (2 * mag_size each) stay within half the capacity, so most of
// a class is reachable from any slot through the depot. Magazine storage is
// 8 bytes per cached block at most.
//
// Slots and locks. There are next_pow2(CPUs configured) slots (1 when
// per_cpu is off), each on its own cache lines with a spin lock; the depot has
// a std::mutex, always taken inside a slot lock (order: slot, then depot).
// Every lock is taken inside a RuntimeSection, so a ULT is never preempted
// while it holds one; no lock is held across a switch or a call to the system
// allocator. The slot lock is uncontended unless two threads map to the same
// slot (workers of different runtimes with the same index, a kernel thread on
// the CPU whose number equals a worker's index, a kernel thread migrated by
// the OS between sched_getcpu and the lock); it is there for correctness in
// those cases.
//
// Counters. Each slot counts the pooled allocations and frees made through it
// (under its lock; a block freed through another slot makes per-slot
// differences negative, the sum is right). Fallback allocations and frees
// use relaxed atomics (that path calls the system allocator anyway).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

#include "arch/cpu.hpp"
#include "quanta/pool.hpp"

namespace quanta::detail {

struct Worker;

// Bytes of address space reserved by every pool class alive (metrics).
inline std::atomic<std::size_t> pool_reserved_bytes{0};

// A test-and-test-and-set lock for short critical sections that never
// switch. Spins with cpu_relax, then yields the kernel thread (the holder may
// have been descheduled by the OS).
class SpinLock {
 public:
  void lock() noexcept {
    if (!locked_.exchange(true, std::memory_order_acquire)) return;
    lock_slow();
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  void lock_slow() noexcept;
  std::atomic<bool> locked_{false};
};

class PoolClass {
 public:
  // `owner`, `free_op` and `name` appear in messages ("MemoryPool",
  // "MemoryPool::deallocate", "small"). block is a multiple of align; align is
  // a power of two no larger than a page; capacity in [1, kMaxPoolCapacity]
  // and capacity * block without overflow (checked by the callers). Throws
  // ResourceError when the range cannot be reserved.
  PoolClass(const char* owner, const char* free_op, const char* name, std::size_t block,
            std::size_t align, std::size_t capacity, bool per_cpu);
  ~PoolClass();
  PoolClass(const PoolClass&) = delete;
  PoolClass& operator=(const PoolClass&) = delete;

  // A block; `bytes` (<= block) is the part the caller uses, made addressable
  // under ASan. Throws std::bad_alloc only when the system allocator fails.
  void* allocate(std::size_t bytes);
  // p: a block from allocate() of this class.
  void deallocate(void* p) noexcept;

  // p lies in the class's reserved range (a pooled block, or a pointer into one).
  bool owns(const void* p) const noexcept {
    return reinterpret_cast<std::uintptr_t>(p) - reinterpret_cast<std::uintptr_t>(base_) <
           range_;
  }
  std::size_t block_size() const noexcept { return block_; }
  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t magazine_size() const noexcept { return mag_size_; }
  std::size_t slot_count() const noexcept { return mask_ + 1; }
  const char* name() const noexcept { return name_; }

  PoolClassStats stats() const;

 private:
  // Followed in memory by its mag_size item pointers.
  struct Magazine {
    Magazine* next = nullptr;  // in a depot list
    std::size_t count = 0;
    void** items() noexcept { return reinterpret_cast<void**>(this + 1); }
  };
  struct alignas(arch::kDestructiveInterference) Slot {
    SpinLock lock;
    Magazine* loaded = nullptr;
    Magazine* previous = nullptr;
    std::uint64_t allocs = 0;  // pooled blocks handed out through this slot
    std::uint64_t frees = 0;   // pooled blocks returned through this slot
  };
  struct alignas(arch::kDestructiveInterference) Depot {
    std::mutex mu;
    Magazine* full = nullptr;
    Magazine* empty = nullptr;
    std::size_t full_count = 0;
    std::size_t fresh_next = 0;  // index of the first block never handed out
    std::size_t mags_used = 0;   // magazines constructed in the mapping so far
  };

  Slot& slot_for(Worker* w) const noexcept;
  void* take(Slot& s) noexcept;         // slot locked; nullptr when exhausted
  void put(Slot& s, void* p) noexcept;  // slot locked
  Magazine* new_magazine() noexcept;  // depot locked (or constructing)
  void* allocate_fallback();
  [[noreturn]] void misuse(const void* p, const char* what) const noexcept;

  const char* owner_;
  const char* free_op_;
  const char* name_;
  std::size_t block_;
  std::size_t align_;
  std::size_t capacity_;
  std::size_t mag_size_;
  std::size_t mask_;  // slots - 1
  char* base_ = nullptr;        // the mapping: blocks, then magazines
  std::size_t range_ = 0;       // capacity * block
  std::size_t map_bytes_ = 0;
  char* mags_ = nullptr;        // first magazine (after the blocks)
  std::size_t mag_stride_ = 0;  // bytes per magazine
  std::size_t mag_total_ = 0;

  std::unique_ptr<Slot[]> slots_;
  mutable Depot depot_;

  alignas(arch::kDestructiveInterference) std::atomic<std::uint64_t> fallbacks_{0};
  std::atomic<std::uint64_t> fallback_frees_{0};
};

}  // namespace quanta::detail
