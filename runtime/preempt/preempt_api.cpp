// quanta — the public preemption API: NoPreempt, allow_preemption_in, counters.
#include <string>

#include "core/no_preempt.hpp"
#include "core/runtime_core.hpp"
#include "preempt/safe_points.hpp"
#include "quanta/error.hpp"
#include "quanta/preempt.hpp"

namespace quanta {

NoPreempt::NoPreempt() noexcept : ult_(detail::current_ult()) {
  if (ult_) detail::enter_no_preempt(static_cast<detail::Ult*>(ult_));
}

NoPreempt::~NoPreempt() {
  if (ult_) detail::leave_no_preempt(static_cast<detail::Ult*>(ult_));
}

unsigned allow_preemption_in(std::string_view fragment) {
  if (fragment.empty()) {
    throw ConfigError(
        "quanta: allow_preemption_in(\"\"): expected part of a loaded object's path, e.g. "
        "\"libmykernels.so\"");
  }
  // Not preempted while dl_iterate_phdr holds the loader's lock.
  detail::RuntimeSection section;
  unsigned n = detail::add_safe_objects(fragment);
  if (n == 0) {
    throw ConfigError("quanta: allow_preemption_in(\"" + std::string(fragment) +
                      "\"): no loaded object's path contains it (or none has code); expected "
                      "part of the path of a loaded shared object");
  }
  return n;
}

PreemptionStats preemption_stats(const Runtime& rt) {
  PreemptionStats st;
  for (auto& w : const_cast<Runtime&>(rt).impl().workers) {
    PreemptionCounters c;
    c.sent = w->preempt_sent.load(std::memory_order_relaxed);
    c.taken = w->preempt_taken.load(std::memory_order_relaxed);
    c.deferred = w->preempt_deferred.load(std::memory_order_relaxed);
    c.deferred_taken = w->preempt_deferred_taken.load(std::memory_order_relaxed);
    c.ignored = w->preempt_ignored.load(std::memory_order_relaxed);
    st.total.sent += c.sent;
    st.total.taken += c.taken;
    st.total.deferred += c.deferred;
    st.total.deferred_taken += c.deferred_taken;
    st.total.ignored += c.ignored;
    st.per_worker.push_back(c);
  }
  return st;
}

namespace this_thread {
PreemptionCounters preemption_counters() noexcept {
  PreemptionCounters c;
  if (const detail::Ult* u = detail::current_ult()) {
    c.taken = u->preempt_taken.load(std::memory_order_relaxed);
    c.deferred = u->preempt_deferred;
    c.deferred_taken = u->preempt_deferred_taken;
  }
  return c;
}
}  // namespace this_thread

}  // namespace quanta
