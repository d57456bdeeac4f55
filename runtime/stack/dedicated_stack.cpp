// quanta — stacks with a mapping of their own (NUMA-bound, huge pages).
#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "quanta/error.hpp"
#include "stack.hpp"
#include "stack_directory.hpp"

namespace quanta::detail {

StackMem map_dedicated_stack(std::size_t size, StackGuard mode, bool huge,
                             std::size_t huge_align) {
  const std::size_t page = page_size();
  const std::size_t guard = mode == StackGuard::Canary ? 0 : page;
  const std::size_t align = huge && huge_align > page ? huge_align : page;
  const std::size_t len = guard + size + (align - page);
  // No MAP_STACK for huge stacks: recent kernels make MAP_STACK mappings
  // VM_NOHUGEPAGE.
  const int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (huge ? 0 : MAP_STACK);
  void* mem = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (mem == MAP_FAILED) {
    int err = errno;
    throw ResourceError("quanta: cannot map a ULT stack of " + std::to_string(size) +
                        " bytes with a mapping of its own: mmap: " + std::strerror(err));
  }
  // The top on an `align` boundary, then the slack on both sides unmapped.
  const auto lo = reinterpret_cast<std::uintptr_t>(mem);
  const std::uintptr_t top = (lo + guard + size + align - 1) / align * align;
  char* base = reinterpret_cast<char*>(top - size);
  char* begin = base - guard;
  if (begin > static_cast<char*>(mem)) ::munmap(mem, static_cast<std::size_t>(begin - static_cast<char*>(mem)));
  if (lo + len > top) ::munmap(reinterpret_cast<void*>(top), lo + len - top);

  StackMem s;
  s.base = base;
  s.size = size;
  s.dedicated = true;
  if (guard) {
    if (::mprotect(begin, page, PROT_NONE) == 0) {
      s.guarded = true;
    } else if (mode == StackGuard::Page) {
      int err = errno;
      ::munmap(begin, guard + size);
      throw ResourceError("quanta: cannot add a guard page to a ULT stack: mprotect: " +
                          std::string(std::strerror(err)) +
                          "; use StackGuard::Canary / QUANTA_STACK_GUARD=canary or raise "
                          "vm.max_map_count");
    }
    if (!s.guarded) ::munmap(begin, page);  // Auto: a canary stack, without the page
  }
  // Advice only: the kernel may have no transparent huge pages (EINVAL) or
  // none free; the stack then has normal pages.
  if (huge) ::madvise(base, size, MADV_HUGEPAGE);
  s.slot = StackDirectory::instance().acquire();
  return s;
}

void unmap_dedicated_stack(const StackMem& s) noexcept {
  // Waits for any reader that may still look at the ULT that lived here.
  StackDirectory::instance().release(s.slot);
  // A guarded stack's mapping starts at its guard page; a canary stack's at
  // its base.
  char* begin = s.guarded ? s.guard_begin() : s.base;
  ::munmap(begin, static_cast<std::size_t>(s.top() - begin));
}

}  // namespace quanta::detail
