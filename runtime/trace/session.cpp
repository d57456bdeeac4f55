// quanta — a runtime's trace session (see session.hpp).
#include "trace/session.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include "arch/cpu.hpp"
#include "core/runtime_core.hpp"
#include "metrics/registry.hpp"
#include "quanta/error.hpp"
#include "trace/chrome_json.hpp"

namespace quanta::detail {

TraceSession::TraceSession(const Config& cfg, unsigned workers) : path_(cfg.trace_file) {
  // Opened now, so that a path that cannot be written fails the start of
  // the runtime rather than its end. "e": close-on-exec.
  file_ = std::fopen(path_.c_str(), "we");
  if (!file_) {
    const int err = errno;
    throw ConfigError("quanta: Config::trace_file = \"" + path_ +
                      "\" cannot be opened for writing: " + std::strerror(err) +
                      "; expected a path where the process may create or overwrite a file "
                      "(QUANTA_TRACE)");
  }
  try {
    for (unsigned i = 0; i < workers; ++i)
      buffers_.push_back(std::make_unique<TraceBuffer>(cfg.trace_buffer));
  } catch (...) {
    std::fclose(file_);
    throw;
  }
  start_ticks_ = arch::cycle_counter();
}

TraceSession::~TraceSession() {
  if (file_) std::fclose(file_);
}

void TraceSession::finish(const RuntimeCore& rt) noexcept {
  if (!file_) return;
  try {
    std::vector<TraceTrack> tracks;
    std::uint64_t dropped = 0;
    for (std::size_t i = 0; i < buffers_.size(); ++i) {
      tracks.push_back({static_cast<unsigned>(i), rt.workers[i]->cpu, buffers_[i].get()});
      dropped += buffers_[i]->dropped();
    }
    const TraceRunInfo run{static_cast<long>(::getpid()),
                           rt.sched->name(),
                           rt.cfg.preempt,
                           static_cast<long long>(rt.cfg.time_slice.count()),
                           rt.cfg.trace_buffer,
                           start_ticks_,
                           ticks_per_ns()};
    if (dropped != 0) {
      std::fprintf(stderr,
                   "quanta: trace \"%s\": %llu events dropped: a worker recorded more than "
                   "the %zu its ring holds, so its oldest events were overwritten (a larger "
                   "Config::trace_buffer / QUANTA_TRACE_BUFFER keeps more)\n",
                   path_.c_str(), static_cast<unsigned long long>(dropped), rt.cfg.trace_buffer);
    }
    if (!write_chrome_trace(file_, run, tracks)) {
      const int err = errno;
      std::fprintf(stderr, "quanta: cannot write the trace file \"%s\": %s\n", path_.c_str(),
                   std::strerror(err));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "quanta: cannot write the trace file \"%s\": %s\n", path_.c_str(),
                 e.what());
  }
  if (std::fclose(file_) != 0) {
    const int err = errno;
    std::fprintf(stderr, "quanta: cannot write the trace file \"%s\": %s\n", path_.c_str(),
                 std::strerror(err));
  }
  file_ = nullptr;
}

}  // namespace quanta::detail
