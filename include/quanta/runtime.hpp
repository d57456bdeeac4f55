// quanta — the runtime: N kernel workers running ULTs.
#pragma once
#include <utility>

#include "quanta/config.hpp"
#include "quanta/thread.hpp"

namespace quanta {

// Owns the workers (kernel threads, one per CPU by default) and runs ULTs on
// them. Several runtimes may coexist. Construction starts the workers;
// destruction waits until every ULT spawned on it has finished (joined or
// detached), then stops and joins the workers. Destroying a Runtime from one of
// its own ULTs is a UsageError (reported and aborted: it would wait on itself).
class Runtime {
 public:
  // Config::from_env(): the defaults with QUANTA_* variables applied.
  Runtime();
  // Validates cfg (ConfigError names the bad field) and starts the workers.
  explicit Runtime(const Config& cfg);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Spawns fn as a ULT with default options; callable from ULTs (of any
  // runtime) and from kernel threads. fn's result or exception comes back
  // through the handle's join().
  template <class F>
  JoinHandle<detail::TaskResultOf<F>> spawn(F&& fn) {
    return detail_make_handle(this, detail::SpawnAttrs{}, std::forward<F>(fn));
  }

  // The validated configuration, with workers resolved (never 0) and
  // topology pointing at the topology the workers are placed on (the
  // runtime's own copy; null only when the machine could not be read).
  const Config& config() const noexcept;
  unsigned worker_count() const noexcept;

  // The runtime whose ULT is calling, or nullptr on a kernel thread.
  static Runtime* current() noexcept;

  struct Impl;
  Impl& impl() noexcept { return *impl_; }

 private:
  Impl* impl_;
};

}  // namespace quanta
