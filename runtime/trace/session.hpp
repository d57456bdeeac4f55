// quanta — a runtime's trace (Config::trace_file / QUANTA_TRACE): the file,
// opened when the runtime starts, and one TraceBuffer per worker, written
// out as Chrome/Perfetto JSON when the runtime stops (docs/tracing.md).
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "quanta/config.hpp"
#include "trace/buffer.hpp"

namespace quanta::detail {

struct RuntimeCore;

class TraceSession {
 public:
  // Opens (creates or truncates) cfg.trace_file and maps one ring of
  // cfg.trace_buffer events for each of `workers`. Called by the Runtime
  // constructor before any worker runs. Throws ConfigError naming the path
  // and the system's reason when the file cannot be opened for writing or is
  // the file of another live session of this process (same device and
  // inode, however the path is spelled), and ResourceError when a ring
  // cannot be mapped.
  TraceSession(const Config& cfg, unsigned workers);
  ~TraceSession();
  TraceSession(const TraceSession&) = delete;
  TraceSession& operator=(const TraceSession&) = delete;

  // Worker i's ring (i < workers).
  TraceBuffer* buffer(unsigned i) const noexcept { return buffers_[i].get(); }

  // Writes the file and closes it; called by ~Runtime once the workers have
  // stopped. Reports on stderr, once, how many events were dropped when a
  // ring wrapped, and any failure to write (a destructor cannot throw).
  void finish(const RuntimeCore& rt) noexcept;

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  // A regular file's identity, claimed while file_ is open so that no other
  // session of this process writes it (see the constructor).
  bool claimed_ = false;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  void unclaim() noexcept;
  std::uint64_t start_ticks_ = 0;
  std::vector<std::unique_ptr<TraceBuffer>> buffers_;
};

}  // namespace quanta::detail
