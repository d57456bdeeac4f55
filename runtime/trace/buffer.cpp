// quanta — a worker's trace ring and name store (see buffer.hpp).
#include "trace/buffer.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "quanta/error.hpp"

namespace quanta::detail {
namespace {

void* map_or_throw(std::size_t bytes, const char* what) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    const int err = errno;
    throw ResourceError(std::string("quanta: cannot map the trace ") + what + " (" +
                        std::to_string(bytes) + " bytes): mmap: " + std::strerror(err) +
                        "; expected a smaller Config::trace_buffer (QUANTA_TRACE_BUFFER)");
  }
  return p;
}

// A name entry: the id (8 bytes), the length (1 byte), the bytes.
constexpr std::size_t kNameHeader = sizeof(std::uint64_t) + 1;

}  // namespace

TraceBuffer::TraceBuffer(std::size_t capacity) : capacity_(capacity) {
  events_ = static_cast<TraceEvent*>(map_or_throw(capacity_ * sizeof(TraceEvent), "ring"));
  try {
    names_ = static_cast<unsigned char*>(map_or_throw(kNameBytes, "name store"));
  } catch (...) {
    ::munmap(events_, capacity_ * sizeof(TraceEvent));
    throw;
  }
}

TraceBuffer::~TraceBuffer() {
  ::munmap(events_, capacity_ * sizeof(TraceEvent));
  ::munmap(names_, kNameBytes);
}

void TraceBuffer::add_name(std::uint64_t id, const char* name) noexcept {
  std::size_t len = std::strlen(name);
  if (len > kMaxName) len = kMaxName;
  if (names_used_ + kNameHeader + len > kNameBytes) return;  // full: "ult <id>"
  unsigned char* at = names_ + names_used_;
  std::memcpy(at, &id, sizeof id);
  at[sizeof id] = static_cast<unsigned char>(len);
  std::memcpy(at + kNameHeader, name, len);
  names_used_ += kNameHeader + len;
}

std::vector<TraceEvent> TraceBuffer::events() const {
  std::vector<TraceEvent> out;
  if (total_ <= capacity_) {
    out.assign(events_, events_ + total_);
  } else {  // wrapped: the oldest survivor is where the next one would go
    out.reserve(capacity_);
    out.insert(out.end(), events_ + next_, events_ + capacity_);
    out.insert(out.end(), events_, events_ + next_);
  }
  return out;
}

std::vector<std::pair<std::uint64_t, std::string>> TraceBuffer::names() const {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  for (std::size_t at = 0; at < names_used_;) {
    std::uint64_t id;
    std::memcpy(&id, names_ + at, sizeof id);
    const std::size_t len = names_[at + sizeof id];
    out.emplace_back(id, std::string(reinterpret_cast<const char*>(names_ + at + kNameHeader), len));
    at += kNameHeader + len;
  }
  return out;
}

}  // namespace quanta::detail
