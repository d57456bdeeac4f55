// quanta — the code ranges preemption may interrupt.
#include "preempt/safe_points.hpp"

#include <elf.h>
#include <link.h>

#include <atomic>
#include <mutex>
#include <string>

#include "quanta/error.hpp"

// Bounds of the section holding code that is never a safe point: the
// preemption signal handler and the thread-local accessors (the linker
// defines them for a section whose name is an identifier).
extern "C" char __start_quanta_nopreempt[];
extern "C" char __stop_quanta_nopreempt[];

namespace quanta::detail {
namespace {

struct Range {
  std::uintptr_t begin;
  std::uintptr_t end;
};

constexpr std::size_t kMaxRanges = 64;
Range g_ranges[kMaxRanges];
std::atomic<std::size_t> g_count{0};
std::mutex g_mu;

struct Match {
  std::string_view fragment;
  bool main_only;
  unsigned objects;
  bool full = false;  // the range table ran out of room
};

int add_object(dl_phdr_info* info, std::size_t, void* data) {
  auto* m = static_cast<Match*>(data);
  const char* name = info->dlpi_name ? info->dlpi_name : "";
  if (m->main_only) {
    // The main program comes first and has an empty name.
    if (*name != '\0') return 1;
  } else if (m->fragment.empty() || std::string_view(name).find(m->fragment) == std::string_view::npos) {
    return 0;
  }
  bool added = false;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
    const Range r{info->dlpi_addr + ph.p_vaddr, info->dlpi_addr + ph.p_vaddr + ph.p_memsz};
    const std::size_t n = g_count.load(std::memory_order_relaxed);
    bool known = false;
    for (std::size_t i = 0; i < n; ++i) known |= g_ranges[i].begin == r.begin && g_ranges[i].end == r.end;
    added = true;  // matched, whether new or already allowed
    if (known) continue;
    if (n == kMaxRanges) {
      m->full = true;
      break;
    }
    g_ranges[n] = r;
    g_count.store(n + 1, std::memory_order_release);
  }
  if (added) ++m->objects;
  return m->main_only ? 1 : 0;
}

}  // namespace

void init_safe_points() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::lock_guard lk(g_mu);
    Match m{{}, true, 0};
    dl_iterate_phdr(add_object, &m);
  });
}

unsigned add_safe_objects(std::string_view fragment) {
  init_safe_points();
  std::lock_guard lk(g_mu);
  Match m{fragment, false, 0};
  dl_iterate_phdr(add_object, &m);
  if (m.full) {
    throw ResourceError("quanta: allow_preemption_in(\"" + std::string(fragment) +
                        "\"): the table of preemptible code ranges is full (" +
                        std::to_string(kMaxRanges) + " ranges); allow fewer objects");
  }
  return m.objects;
}

bool preemptible_pc(std::uintptr_t pc) noexcept {
  if (pc >= reinterpret_cast<std::uintptr_t>(__start_quanta_nopreempt) &&
      pc < reinterpret_cast<std::uintptr_t>(__stop_quanta_nopreempt))
    return false;  // the signal handler, the thread-local accessors
  const std::size_t n = g_count.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < n; ++i)
    if (pc >= g_ranges[i].begin && pc < g_ranges[i].end) return true;
  return false;
}

}  // namespace quanta::detail
