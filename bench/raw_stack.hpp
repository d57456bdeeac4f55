// A heap block used as the stack of a raw context in the switch benchmarks.
#pragma once
#include <cstddef>
#include <memory>
#include <new>

namespace qbench {

inline constexpr std::size_t kRawStackSize = 64 * 1024;

struct RawStackDeleter {
  void operator()(std::byte* p) const { ::operator delete[](p, std::align_val_t{64}); }
};

class RawStack {
 public:
  RawStack()
      : mem_(static_cast<std::byte*>(::operator new[](kRawStackSize, std::align_val_t{64}))) {}
  // One past the highest usable byte.
  std::byte* top() const noexcept { return mem_.get() + kRawStackSize; }
  static constexpr std::size_t size() noexcept { return kRawStackSize; }

 private:
  std::unique_ptr<std::byte[], RawStackDeleter> mem_;
};

}  // namespace qbench
