// quanta — a runtime's trace session (see session.hpp).
#include "trace/session.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <mutex>
#include <utility>

#include "arch/cpu.hpp"
#include "core/runtime_core.hpp"
#include "metrics/registry.hpp"
#include "quanta/error.hpp"
#include "trace/chrome_json.hpp"

namespace quanta::detail {
namespace {

// The files (device, inode) the live trace sessions of this process write:
// a second runtime given the same file, under any spelling of its path,
// would overwrite the first one's trace.
std::mutex claimed_mu;
std::vector<std::pair<dev_t, ino_t>> claimed;

bool claim(dev_t dev, ino_t ino) {
  std::lock_guard lock(claimed_mu);
  const auto key = std::make_pair(dev, ino);
  if (std::find(claimed.begin(), claimed.end(), key) != claimed.end()) return false;
  claimed.push_back(key);
  return true;
}

}  // namespace

void TraceSession::unclaim() noexcept {
  if (!claimed_) return;
  claimed_ = false;
  std::lock_guard lock(claimed_mu);
  const auto it = std::find(claimed.begin(), claimed.end(), std::make_pair(dev_, ino_));
  if (it != claimed.end()) claimed.erase(it);
}

TraceSession::TraceSession(const Config& cfg, unsigned workers) : path_(cfg.trace_file) {
  // Opened now, so that a path that cannot be written fails the start of
  // the runtime rather than its end; truncated only once no other runtime
  // of this process is found writing the same file.
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    throw ConfigError("quanta: Config::trace_file = \"" + path_ +
                      "\" cannot be opened for writing: " + std::strerror(err) +
                      "; expected a path where the process may create or overwrite a file "
                      "(QUANTA_TRACE)");
  }
  // Only regular files: several runtimes may share /dev/null or a pipe.
  if (S_ISREG(st.st_mode) && !claim(st.st_dev, st.st_ino)) {
    ::close(fd);
    throw ConfigError("quanta: Config::trace_file = \"" + path_ +
                      "\" is already the trace file of another Runtime alive in this process; "
                      "expected a file of its own for each Runtime (QUANTA_TRACE applies to "
                      "every Runtime built from Config::from_env())");
  }
  claimed_ = S_ISREG(st.st_mode);
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  if ((claimed_ && ::ftruncate(fd, 0) != 0) || !(file_ = ::fdopen(fd, "w"))) {
    const int err = errno;
    ::close(fd);
    unclaim();
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
    unclaim();
    throw;
  }
  start_ticks_ = arch::cycle_counter();
}

TraceSession::~TraceSession() {
  if (file_) {
    std::fclose(file_);
    unclaim();
  }
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
  unclaim();
}

}  // namespace quanta::detail
