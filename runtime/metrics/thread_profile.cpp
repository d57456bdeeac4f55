// quanta — per-ULT hardware counts (thread_profile.hpp).
#include "metrics/thread_profile.hpp"

#include <mutex>
#include <new>
#include <thread>

#include "core/runtime_core.hpp"
#include "core/ult.hpp"
#include "core/worker.hpp"
#include "metrics/perf_counters.hpp"

namespace quanta::detail {
namespace {

static_assert(kProfileEvents == kHwEvents);

std::mutex g_open_mu;  // opening workers' counters; the reasons below
// Why each event is unavailable, from the first set of counters opened in
// the process (every worker runs on the same machine and kernel).
std::string g_reason[kHwEvents];
bool g_reasons_set = false;

// The events as ThreadMetrics names them (HardwareCounters' fields).
constexpr const char* kEventName[kProfileEvents] = {"cycles", "instructions", "cache misses",
                                                    "branch misses", "page faults"};

}  // namespace

UltProfile* profile_create() noexcept { return new (std::nothrow) UltProfile; }

void profile_destroy(UltProfile* p) noexcept { delete p; }

void profile_open_workers(RuntimeCore& rt) noexcept {
  if (rt.counters_open.load(std::memory_order_acquire)) return;
  std::lock_guard lk(g_open_mu);
  if (rt.counters_open.load(std::memory_order_relaxed)) return;
  for (auto& wp : rt.workers) {
    Worker& w = *wp;
    // A worker that has just been started may not know its thread id yet.
    while (!w.tid_ready.load(std::memory_order_acquire)) std::this_thread::yield();
    auto* c = new (std::nothrow) HwCounters;
    if (!c) continue;  // out of memory: this worker's runs are not counted
    c->open(w.tid);
    if (!g_reasons_set) {
      for (std::size_t i = 0; i < kHwEvents; ++i) g_reason[i] = c->reason(static_cast<HwEvent>(i));
      g_reasons_set = true;
    }
    w.counters.store(c, std::memory_order_release);
  }
  rt.counters_open.store(true, std::memory_order_release);
}

void profile_close_worker(Worker& w) noexcept {
  delete w.counters.exchange(nullptr, std::memory_order_acq_rel);
}

void profile_switch(Worker& w, Ult* out, Ult* in) noexcept {
  UltProfile* po = out ? out->profile : nullptr;
  UltProfile* pi = in ? in->profile : nullptr;
  if (!po && !pi) return;
  HwCounters* c = w.counters.load(std::memory_order_acquire);
  HwSnapshot s{};
  if (c) c->read(s);  // one read serves both ULTs
  if (po) {
    std::uint32_t mask = c ? po->start_mask : 0;
    for (unsigned i = 0; i < kProfileEvents; ++i) {
      if (!(mask & (1u << i))) continue;
      const std::uint64_t d = s.value[i] >= po->start[i] ? s.value[i] - po->start[i] : 0;
      po->total[i].store(po->total[i].load(std::memory_order_relaxed) + d,
                         std::memory_order_relaxed);
    }
    // An event is the ULT's only if it was counted in every run.
    const bool first = !po->ran.load(std::memory_order_relaxed);
    po->counted.store(first ? mask : (po->counted.load(std::memory_order_relaxed) & mask),
                      std::memory_order_relaxed);
    po->ran.store(true, std::memory_order_release);
  }
  if (pi) {
    for (unsigned i = 0; i < kProfileEvents; ++i) pi->start[i] = s.value[i];
    pi->start_mask = c ? c->available() : 0;
  }
}

std::uint32_t profile_read(const Ult* u, Worker* in_progress, std::uint64_t* out) noexcept {
  const UltProfile* p = u->profile;
  if (!p) return 0;
  const bool ran = p->ran.load(std::memory_order_acquire);
  std::uint32_t mask = ran ? p->counted.load(std::memory_order_relaxed) : ~std::uint32_t{0};
  for (unsigned i = 0; i < kProfileEvents; ++i) out[i] = p->total[i].load(std::memory_order_relaxed);
  if (in_progress) {
    // The caller's own run: its counts so far, read on its worker.
    HwCounters* c = in_progress->counters.load(std::memory_order_acquire);
    if (c && p->start_mask != 0) {
      HwSnapshot s;
      c->read(s);
      for (unsigned i = 0; i < kProfileEvents; ++i)
        if (p->start_mask & (1u << i) && s.value[i] >= p->start[i]) out[i] += s.value[i] - p->start[i];
    }
    mask &= p->start_mask;
  } else if (!ran) {
    mask = 0;  // nothing counted yet
  }
  for (unsigned i = 0; i < kProfileEvents; ++i)
    if (!(mask & (1u << i))) out[i] = 0;
  return mask;
}

std::string profile_unavailable(std::uint32_t mask, bool ran) {
  std::lock_guard lk(g_open_mu);
  std::string out;
  for (unsigned i = 0; i < kProfileEvents; ++i) {
    if (mask & (1u << i)) continue;
    if (!out.empty()) out += "; ";
    out += kEventName[i];
    if (!g_reason[i].empty())
      out += ": " + g_reason[i];
    else if (!ran)
      out += ": the ULT has not finished a run yet";
    else
      out += ": not counted in every run of the ULT (a worker's counters could not be made)";
  }
  return out;
}

}  // namespace quanta::detail
