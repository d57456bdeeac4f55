// quanta — per-ULT placement: planning it at spawn, placed spawns, and the
// this_thread queries of where the caller runs.
#include "core/placement.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/runtime_core.hpp"
#include "quanta/error.hpp"
#include "quanta/thread.hpp"
#include "topology/topology_data.hpp"

namespace quanta::detail {
namespace {

unsigned mask_count(const std::uint64_t* m, unsigned words) noexcept {
  unsigned n = 0;
  for (unsigned i = 0; i < words; ++i) n += static_cast<unsigned>(__builtin_popcountll(m[i]));
  return n;
}

// The k-th (from 0) worker in m.
unsigned mask_nth(const std::uint64_t* m, unsigned words, unsigned k) noexcept {
  for (unsigned i = 0; i < words; ++i) {
    std::uint64_t w = m[i];
    const unsigned c = static_cast<unsigned>(__builtin_popcountll(w));
    if (k >= c) {
      k -= c;
      continue;
    }
    for (; k > 0; --k) w &= w - 1;  // drop the lowest set bits
    return i * 64 + static_cast<unsigned>(__builtin_ctzll(w));
  }
  return 0;  // unreachable for k < mask_count
}

std::string cpu_set_text(const int* cpus, std::size_t n) {
  std::vector<int> v(cpus, cpus + n);
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return "{" + (v.empty() ? std::string() : format_cpulist(v)) + "}";
}

std::string worker_cpus_text(const RuntimeCore& rt) {
  std::vector<int> v;
  for (const auto& w : rt.workers)
    if (w->cpu >= 0) v.push_back(w->cpu);
  if (v.empty()) return "no known CPUs (the process's CPU affinity could not be read)";
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return "CPUs " + format_cpulist(v);
}

std::string node_list_text(const RuntimeCore& rt) {
  std::vector<int> v(rt.node_ids.begin(), rt.node_ids.end());
  return format_cpulist(v);
}

}  // namespace

std::size_t PlacementPlan::mask_bytes(const RuntimeCore& rt) const noexcept {
  return (static_cast<std::size_t>(has_allowed) + static_cast<std::size_t>(prefer_own)) *
         rt.mask_words * sizeof(std::uint64_t);
}

void plan_placement(const RuntimeCore& rt, const PlacementAttrs& a, std::size_t stack_size,
                    PlacementPlan& plan) {
  const unsigned words = rt.mask_words;
  plan.has_allowed = false;
  plan.prefer_own = false;
  plan.prefer_shared = nullptr;
  plan.place = 0;
  plan.bind_node = -1;
  plan.huge = false;
  if (a.has_affinity) {
    std::vector<int> cpus(a.cpus, a.cpus + a.cpu_count);
    for (int c : cpus) {
      if (c < 0) {
        throw ConfigError("quanta: cpu_affinity holds " + std::to_string(c) +
                          ", which is not a CPU number; expected OS CPU indexes >= 0");
      }
    }
    std::sort(cpus.begin(), cpus.end());
    std::fill(plan.allowed, plan.allowed + words, 0);
    for (const auto& w : rt.workers)
      if (w->cpu >= 0 && std::binary_search(cpus.begin(), cpus.end(), w->cpu))
        plan.allowed[w->index / 64] |= std::uint64_t{1} << (w->index % 64);
    const unsigned n = mask_count(plan.allowed, words);
    if (n == 0) {
      throw ConfigError("quanta: cpu_affinity " + cpu_set_text(a.cpus, a.cpu_count) +
                        " holds no CPU of this runtime's workers; expected at least one of "
                        "their " + worker_cpus_text(rt));
    }
    plan.has_allowed = true;
    if (n == 1) plan.place |= kPlaceOne;
  }
  if (a.has_numa_node) {
    auto it = std::find(rt.node_ids.begin(), rt.node_ids.end(), a.numa_node);
    if (it == rt.node_ids.end()) {
      throw ConfigError("quanta: numa_node " + std::to_string(a.numa_node) +
                        " is not a NUMA node of this runtime's topology; expected one of " +
                        node_list_text(rt));
    }
    const std::uint64_t* node_mask =
        rt.node_workers[static_cast<std::size_t>(it - rt.node_ids.begin())].data();
    if (plan.has_allowed) {
      for (unsigned i = 0; i < words; ++i) plan.prefer[i] = plan.allowed[i] & node_mask[i];
      plan.prefer_own = mask_count(plan.prefer, words) != 0;
    } else if (mask_count(node_mask, words) != 0) {
      plan.prefer_shared = node_mask;
    }
    // A node without workers (or none allowed) still gets the stack.
    if (rt.topo_is_machine && rt.topo) plan.bind_node = static_cast<int>(a.numa_node);
  }
  if (a.migration == MigrationPolicy::Prohibited && !(plan.place & kPlaceOne))
    plan.place |= kPlaceBind;
  if (a.stack_prefetch) plan.place |= kPlacePrefetch;
  if (plan.has_allowed || plan.prefer_own || plan.prefer_shared) plan.place |= kPlaceSpawn;
  plan.huge = a.huge_pages && stack_size >= kHugePageSize;
}

void bind_stack(const RuntimeCore& rt, const StackMem& s, unsigned node) {
  const int e = bind_to_node(s.base, s.size, node);
  if (e == 0) return;
  const bool none = no_memory_binding(e);
  if (none && rt.node_ids.size() == 1) return;  // the only node: nothing to bind
  throw ResourceError("quanta: cannot bind the " + std::to_string(s.size) +
                      "-byte stack of a ULT to NUMA node " + std::to_string(node) +
                      " (mbind MPOL_BIND: " + std::strerror(e) +
                      (none ? "; this system offers no NUMA memory binding" : "") + ")");
}

void apply_placement(Ult* u, const PlacementPlan& plan, const RuntimeCore& rt,
                     void* masks) noexcept {
  auto* m = static_cast<std::uint64_t*>(masks);
  const unsigned words = rt.mask_words;
  if (plan.has_allowed) {
    std::memcpy(m, plan.allowed, words * sizeof(std::uint64_t));
    u->allowed = m;
    m += words;
  }
  if (plan.prefer_own) {
    std::memcpy(m, plan.prefer, words * sizeof(std::uint64_t));
    u->prefer = m;
  } else {
    u->prefer = plan.prefer_shared;
  }
  u->place = plan.place;
}

void start_placed(Ult* u, Worker* w) noexcept {
  RuntimeCore* rt = u->rt;
  const std::uint64_t* m = u->prefer ? u->prefer : u->allowed;
  const bool here = w && w->rt == rt;
  if (here && mask_has(m, w->index)) {
    w->make_runnable_hot(u);
    return;
  }
  send_to(deal_worker(*rt, m), u);
}

Worker* deal_worker(RuntimeCore& rt, const std::uint64_t* m) noexcept {
  const unsigned n = mask_count(m, rt.mask_words);
  const unsigned k = rt.place_next.fetch_add(1, std::memory_order_relaxed) % n;
  return rt.workers[mask_nth(m, rt.mask_words, k)].get();
}

}  // namespace quanta::detail

namespace quanta::this_thread {

int worker_index() noexcept {
  // One thread-local read (a ULT preempted right after it still gets the
  // worker it was on when it read); index is constant.
  const detail::Worker* w = detail::current_worker();
  return w ? static_cast<int>(w->index) : -1;
}

int numa_node() noexcept {
  const detail::Worker* w = detail::current_worker();
  return w ? static_cast<int>(w->node) : -1;
}

}  // namespace quanta::this_thread
