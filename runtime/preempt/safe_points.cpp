// quanta — the code ranges preemption may interrupt.
#include "preempt/safe_points.hpp"

#include <elf.h>
#include <link.h>

#include <atomic>
#include <mutex>
#include <string>

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
    const std::size_t n = g_count.load(std::memory_order_relaxed);
    if (n == kMaxRanges) break;
    g_ranges[n] = Range{info->dlpi_addr + ph.p_vaddr, info->dlpi_addr + ph.p_vaddr + ph.p_memsz};
    g_count.store(n + 1, std::memory_order_release);
    added = true;
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
  return m.objects;
}

bool preemptible_pc(std::uintptr_t pc) noexcept {
  const std::size_t n = g_count.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < n; ++i)
    if (pc >= g_ranges[i].begin && pc < g_ranges[i].end) return true;
  return false;
}

}  // namespace quanta::detail
