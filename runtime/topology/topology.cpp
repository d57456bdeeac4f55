// quanta — Topology: the numbered model, queries on it, steal-victim order,
// node-bound memory, and the machine's topology().
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <tuple>

#include "core/no_preempt.hpp"
#include <utility>

#include <linux/mempolicy.h>

#include "quanta/error.hpp"
#include "topology/topology_data.hpp"
#ifdef QUANTA_HAVE_HWLOC
#include "topology/hwloc_loader.hpp"
#endif

namespace quanta {
namespace detail {
namespace {

constexpr unsigned kLocalDistance = 10;
constexpr unsigned kRemoteDistance = 20;

[[noreturn]] void unusable(std::string_view source, const std::string& what) {
  throw ResourceError("quanta: topology from " + std::string(source) + ": " + what);
}

}  // namespace

// --- node-bound memory ---------------------------------------------------------

int bind_to_node(void* p, std::size_t len, unsigned node) noexcept {
  // A node mask wide enough for `node`; mbind's maxnode counts one more bit
  // than the mask holds (the kernel decrements it). Nodes beyond 4095 do not
  // exist on Linux.
  constexpr std::size_t kBits = sizeof(unsigned long) * 8;
  constexpr std::size_t kMaxNodes = 4096;
  if (node >= kMaxNodes) return EINVAL;
  unsigned long mask[kMaxNodes / kBits] = {};
  mask[node / kBits] |= 1ul << (node % kBits);
  const std::size_t words = node / kBits + 1;
  const int saved = errno;
  long rc = syscall(SYS_mbind, p, len, MPOL_BIND, mask, words * kBits + 1, 0u);
  const int e = rc == 0 ? 0 : errno;
  errno = saved;
  return e;
}

bool no_memory_binding(int e) noexcept { return e == ENOSYS || e == EPERM; }

// --- cpulists -----------------------------------------------------------------

bool parse_cpulist(std::string_view text, std::vector<int>& out) {
  out.clear();
  auto skip_space = [&](std::size_t& i) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t')) ++i;
  };
  auto number = [&](std::size_t& i, long& v) {
    std::size_t start = i;
    v = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      v = v * 10 + (text[i] - '0');
      if (v > std::numeric_limits<int>::max()) return false;
      ++i;
    }
    return i > start;
  };
  std::size_t i = 0;
  skip_space(i);
  while (i < text.size()) {
    long lo = 0, hi = 0;
    if (!number(i, lo)) return false;
    hi = lo;
    if (i < text.size() && text[i] == '-') {
      ++i;
      if (!number(i, hi) || hi < lo) return false;
    }
    for (long v = lo; v <= hi; ++v) out.push_back(static_cast<int>(v));
    skip_space(i);
    if (i == text.size()) break;
    if (text[i] != ',') return false;
    ++i;
    skip_space(i);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return true;
}

std::string format_cpulist(const std::vector<int>& pus) {
  std::string s;
  for (std::size_t i = 0; i < pus.size();) {
    std::size_t j = i;
    while (j + 1 < pus.size() && pus[j + 1] == pus[j] + 1) ++j;
    if (!s.empty()) s += ',';
    s += std::to_string(pus[i]);
    if (j > i) s += '-' + std::to_string(pus[j]);
    i = j + 1;
  }
  return s.empty() ? "none" : s;
}

std::vector<int> affinity_pus() {
  std::vector<int> out;
  // Grow the set until it holds every CPU the kernel knows about.
  for (std::size_t ncpus = 1024; ncpus <= (1u << 20); ncpus *= 2) {
    cpu_set_t* set = CPU_ALLOC(ncpus);
    if (!set) return out;
    std::size_t size = CPU_ALLOC_SIZE(ncpus);
    CPU_ZERO_S(size, set);
    if (sched_getaffinity(0, size, set) == 0) {
      for (std::size_t c = 0; c < ncpus; ++c)
        if (CPU_ISSET_S(c, size, set)) out.push_back(static_cast<int>(c));
      CPU_FREE(set);
      return out;
    }
    CPU_FREE(set);
    if (errno != EINVAL) return out;
  }
  return out;
}

// --- building the model -------------------------------------------------------

Topology TopologyBuilder::build(TopologyFacts f, std::string_view source) {
  if (f.pus.empty()) unusable(source, "no PUs (logical CPUs) found");

  auto d = std::make_shared<TopologyData>();

  // PU OS indexes: non-negative and unique.
  int max_os = -1;
  for (const auto& p : f.pus) {
    if (p.os < 0) unusable(source, "negative PU index " + std::to_string(p.os));
    max_os = std::max(max_os, p.os);
  }
  d->slot.assign(static_cast<std::size_t>(max_os) + 1, -1);
  for (std::size_t i = 0; i < f.pus.size(); ++i) {
    int& s = d->slot[static_cast<std::size_t>(f.pus[i].os)];
    if (s != -1) unusable(source, "PU " + std::to_string(f.pus[i].os) + " is listed twice");
    s = static_cast<int>(i);
  }
  auto known = [&](int pu) {
    return pu >= 0 && pu <= max_os && d->slot[static_cast<std::size_t>(pu)] != -1;
  };

  // Nodes: ascending OS indexes; each PU in the first node that lists it.
  if (f.nodes.empty()) {
    TopologyFacts::Node all{0, {}};
    for (const auto& p : f.pus) all.pus.push_back(p.os);
    f.nodes.push_back(std::move(all));
  }
  std::vector<std::size_t> node_order(f.nodes.size());
  for (std::size_t i = 0; i < node_order.size(); ++i) node_order[i] = i;
  std::sort(node_order.begin(), node_order.end(),
            [&](std::size_t a, std::size_t b) { return f.nodes[a].os < f.nodes[b].os; });
  for (std::size_t k = 1; k < node_order.size(); ++k)
    if (f.nodes[node_order[k]].os == f.nodes[node_order[k - 1]].os)
      unusable(source,
               "NUMA node " + std::to_string(f.nodes[node_order[k]].os) + " is listed twice");
  std::vector<unsigned> node_of(f.pus.size(), std::numeric_limits<unsigned>::max());
  for (std::size_t i : node_order) {
    for (int pu : f.nodes[i].pus)
      if (known(pu)) {
        unsigned& n = node_of[static_cast<std::size_t>(d->slot[static_cast<std::size_t>(pu)])];
        if (n == std::numeric_limits<unsigned>::max()) n = f.nodes[i].os;
      }
  }
  const unsigned first_node = f.nodes[node_order.front()].os;
  for (unsigned& n : node_of)
    if (n == std::numeric_limits<unsigned>::max()) n = first_node;

  // Packages by lowest PU; cores keyed by (package key, core key).
  std::map<long, int> package_min;
  std::map<std::pair<long, long>, int> core_min;
  for (const auto& p : f.pus) {
    auto [pit, pnew] = package_min.emplace(p.package, p.os);
    if (!pnew) pit->second = std::min(pit->second, p.os);
    auto [cit, cnew] = core_min.emplace(std::make_pair(p.package, p.core), p.os);
    if (!cnew) cit->second = std::min(cit->second, p.os);
  }
  std::vector<int> package_mins;
  for (const auto& [key, mn] : package_min) package_mins.push_back(mn);
  std::sort(package_mins.begin(), package_mins.end());
  auto package_index = [&](long key) {
    int mn = package_min.at(key);
    return static_cast<unsigned>(std::lower_bound(package_mins.begin(), package_mins.end(), mn) -
                                 package_mins.begin());
  };

  struct Key {
    unsigned package;
    unsigned node;
    int core_min;
    int os;
  };
  std::vector<Key> keys;
  keys.reserve(f.pus.size());
  for (std::size_t i = 0; i < f.pus.size(); ++i) {
    const auto& p = f.pus[i];
    keys.push_back({package_index(p.package), node_of[i],
                    core_min.at(std::make_pair(p.package, p.core)), p.os});
  }
  std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
    return std::tie(a.package, a.node, a.core_min, a.os) <
           std::tie(b.package, b.node, b.core_min, b.os);
  });
  std::map<int, unsigned> core_index;  // core's lowest PU -> logical index
  for (const Key& k : keys) {
    auto it = core_index.emplace(k.core_min, static_cast<unsigned>(core_index.size())).first;
    TopologyData::Pu pu;
    pu.os = k.os;
    pu.core = it->second;
    pu.package = k.package;
    pu.node = k.node;
    d->slot[static_cast<std::size_t>(k.os)] = static_cast<int>(d->pus.size());
    d->pus.push_back(std::move(pu));
  }
  d->cores = static_cast<unsigned>(core_index.size());
  d->packages = static_cast<unsigned>(package_mins.size());

  for (std::size_t i : node_order) {
    d->nodes.push_back(f.nodes[i].os);
    std::vector<int> pus;
    for (const auto& p : d->pus)
      if (p.node == f.nodes[i].os) pus.push_back(p.os);
    std::sort(pus.begin(), pus.end());
    d->node_pus.push_back(std::move(pus));
  }

  // Distances: reorder rows/columns to ascending node order, or default.
  const std::size_t n = d->nodes.size();
  d->distances.assign(n * n, kRemoteDistance);
  if (f.distances.size() == n * n) {
    for (std::size_t a = 0; a < n; ++a)
      for (std::size_t b = 0; b < n; ++b)
        d->distances[a * n + b] = f.distances[node_order[a] * n + node_order[b]];
  } else {
    for (std::size_t a = 0; a < n; ++a) d->distances[a * n + a] = kLocalDistance;
  }

  // Caches: known PUs only, ascending, deduplicated, ordered.
  for (auto& c : f.caches) {
    std::vector<int> pus;
    for (int pu : c.pus)
      if (known(pu)) pus.push_back(pu);
    std::sort(pus.begin(), pus.end());
    pus.erase(std::unique(pus.begin(), pus.end()), pus.end());
    if (pus.empty() || c.level == 0) continue;
    d->caches.push_back({c.level, std::move(pus)});
  }
  std::sort(d->caches.begin(), d->caches.end(), [](const auto& a, const auto& b) {
    return std::tie(a.level, a.pus) < std::tie(b.level, b.pus);
  });
  d->caches.erase(std::unique(d->caches.begin(), d->caches.end()), d->caches.end());
  for (std::size_t ci = 0; ci < d->caches.size(); ++ci) {
    if (d->caches[ci].level < 2) continue;
    for (int pu : d->caches[ci].pus)
      d->pus[static_cast<std::size_t>(d->slot[static_cast<std::size_t>(pu)])]
          .shared_caches.push_back(static_cast<unsigned>(ci));
  }
  return Topology(std::move(d));
}

TopologyFacts TopologyBuilder::facts_of(const Topology& t) {
  const TopologyData& d = *t.d_;
  TopologyFacts f;
  for (const auto& p : d.pus)
    f.pus.push_back({p.os, static_cast<long>(p.package), static_cast<long>(p.core)});
  for (std::size_t i = 0; i < d.nodes.size(); ++i) f.nodes.push_back({d.nodes[i], d.node_pus[i]});
  f.caches = d.caches;
  f.distances = d.distances;
  return f;
}

Topology restrict_topology(const Topology& t, const std::vector<int>& allowed) {
  TopologyFacts f = TopologyBuilder::facts_of(t);
  std::vector<int> ok(allowed);
  std::sort(ok.begin(), ok.end());
  std::erase_if(f.pus, [&](const TopologyFacts::Pu& p) {
    return !std::binary_search(ok.begin(), ok.end(), p.os);
  });
  if (f.pus.empty()) {
    std::vector<int> all = t.pus();
    std::sort(all.begin(), all.end());
    throw ResourceError("quanta: none of the PUs " + format_cpulist(all) +
                        " is in the allowed set " + format_cpulist(ok));
  }
  return TopologyBuilder::build(std::move(f), "the affinity-restricted topology");
}

}  // namespace detail

// --- queries ------------------------------------------------------------------

namespace {

std::vector<int> sorted_pus(const detail::TopologyData& d) {
  std::vector<int> v;
  for (const auto& p : d.pus) v.push_back(p.os);
  std::sort(v.begin(), v.end());
  return v;
}

std::string node_list(const detail::TopologyData& d) {
  std::vector<int> v(d.nodes.begin(), d.nodes.end());
  return detail::format_cpulist(v);
}

const detail::TopologyData::Pu& pu_at(const detail::TopologyData& d, int pu, const char* fn) {
  if (pu < 0 || static_cast<std::size_t>(pu) >= d.slot.size() ||
      d.slot[static_cast<std::size_t>(pu)] < 0) {
    throw ConfigError(std::string("quanta: Topology::") + fn + ": PU " + std::to_string(pu) +
                      " is not in this topology; its PUs are " +
                      detail::format_cpulist(sorted_pus(d)));
  }
  return d.pus[static_cast<std::size_t>(d.slot[static_cast<std::size_t>(pu)])];
}

std::size_t node_at(const detail::TopologyData& d, unsigned node, const char* fn) {
  auto it = std::lower_bound(d.nodes.begin(), d.nodes.end(), node);
  if (it == d.nodes.end() || *it != node) {
    throw ConfigError(std::string("quanta: Topology::") + fn + ": NUMA node " +
                      std::to_string(node) + " does not exist; this topology has " +
                      std::to_string(d.nodes.size()) +
                      (d.nodes.size() == 1 ? " node: " : " nodes: ") + node_list(d));
  }
  return static_cast<std::size_t>(it - d.nodes.begin());
}

std::string plural(unsigned n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

bool share_cache(const detail::TopologyData::Pu& a, const detail::TopologyData::Pu& b) {
  // Both lists are ascending cache indexes.
  auto i = a.shared_caches.begin();
  auto j = b.shared_caches.begin();
  while (i != a.shared_caches.end() && j != b.shared_caches.end()) {
    if (*i == *j) return true;
    if (*i < *j)
      ++i;
    else
      ++j;
  }
  return false;
}

int closeness_of(const detail::TopologyData::Pu& a, const detail::TopologyData::Pu& b) {
  if (a.core == b.core) return Topology::kSameCore;
  if (share_cache(a, b)) return Topology::kSharedCache;
  if (a.node == b.node) return Topology::kSameNode;
  if (a.package == b.package) return Topology::kSamePackage;
  return Topology::kRemote;
}

}  // namespace

unsigned Topology::pu_count() const noexcept { return static_cast<unsigned>(d_->pus.size()); }
unsigned Topology::core_count() const noexcept { return d_->cores; }
unsigned Topology::package_count() const noexcept { return d_->packages; }
unsigned Topology::node_count() const noexcept { return static_cast<unsigned>(d_->nodes.size()); }

std::vector<int> Topology::pus() const {
  std::vector<int> v;
  v.reserve(d_->pus.size());
  for (const auto& p : d_->pus) v.push_back(p.os);
  return v;
}

std::vector<unsigned> Topology::nodes() const { return d_->nodes; }

const std::vector<Topology::Cache>& Topology::caches() const noexcept { return d_->caches; }

unsigned Topology::node_of_pu(int pu) const { return pu_at(*d_, pu, "node_of_pu").node; }
unsigned Topology::core_of_pu(int pu) const { return pu_at(*d_, pu, "core_of_pu").core; }
unsigned Topology::package_of_pu(int pu) const { return pu_at(*d_, pu, "package_of_pu").package; }

std::vector<int> Topology::cpu_mask_for_node(unsigned node) const {
  return d_->node_pus[node_at(*d_, node, "cpu_mask_for_node")];
}

unsigned Topology::distance(unsigned node_a, unsigned node_b) const {
  std::size_t a = node_at(*d_, node_a, "distance");
  std::size_t b = node_at(*d_, node_b, "distance");
  return d_->distances[a * d_->nodes.size() + b];
}

int Topology::closeness(int pu_a, int pu_b) const {
  return closeness_of(pu_at(*d_, pu_a, "closeness"), pu_at(*d_, pu_b, "closeness"));
}

std::vector<int> Topology::victims_for(int pu, const std::vector<int>& candidates) const {
  const auto& self = pu_at(*d_, pu, "victims_for");
  const std::size_t self_node = node_at(*d_, self.node, "victims_for");
  struct Ranked {
    int closeness;
    unsigned distance;
    int os;
  };
  std::vector<Ranked> ranked;
  ranked.reserve(candidates.size());
  for (int c : candidates) {
    const auto& other = pu_at(*d_, c, "victims_for");
    if (c == pu) continue;
    const std::size_t other_node = node_at(*d_, other.node, "victims_for");
    ranked.push_back(
        {closeness_of(self, other), d_->distances[self_node * d_->nodes.size() + other_node], c});
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
    return std::tie(a.closeness, a.distance, a.os) < std::tie(b.closeness, b.distance, b.os);
  });
  std::vector<int> out;
  out.reserve(ranked.size());
  for (const auto& r : ranked) out.push_back(r.os);
  return out;
}

unsigned Topology::current_node() const noexcept {
  int cpu = sched_getcpu();
  if (cpu >= 0 && static_cast<std::size_t>(cpu) < d_->slot.size() &&
      d_->slot[static_cast<std::size_t>(cpu)] >= 0)
    return d_->pus[static_cast<std::size_t>(d_->slot[static_cast<std::size_t>(cpu)])].node;
  return d_->nodes.front();
}

void* Topology::allocate_on_node(unsigned node, std::size_t bytes) const {
  node_at(*d_, node, "allocate_on_node");
  if (bytes == 0) {
    throw ConfigError("quanta: Topology::allocate_on_node: bytes = 0; expected at least 1 byte");
  }
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  if (bytes > std::numeric_limits<std::size_t>::max() - page) {
    throw ConfigError("quanta: Topology::allocate_on_node: bytes = " + std::to_string(bytes) +
                      " is larger than the address space");
  }
  const std::size_t len = (bytes + page - 1) / page * page;
  auto what = [&] { return std::to_string(bytes) + " bytes on NUMA node " + std::to_string(node); };
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    int e = errno;
    throw ResourceError("quanta: Topology::allocate_on_node: cannot map " + what() + ": " +
                        std::strerror(e));
  }
  if (int e = detail::bind_to_node(p, len, node); e != 0) {
    const bool no_binding = detail::no_memory_binding(e);
    if (no_binding && d_->nodes.size() == 1) return p;  // the only node: nothing to bind
    munmap(p, len);
    throw ResourceError("quanta: Topology::allocate_on_node: cannot bind " + what() +
                        " (mbind MPOL_BIND: " + std::strerror(e) +
                        (no_binding ? "; this system offers no NUMA memory binding" : "") + ")");
  }
  return p;
}

void Topology::free_on_node(void* p, std::size_t bytes) const noexcept {
  if (!p || bytes == 0) return;
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  munmap(p, (bytes + page - 1) / page * page);
}

std::string Topology::describe() const {
  return plural(package_count(), "package", "packages") + ", " +
         plural(node_count(), "NUMA node", "NUMA nodes") + ", " +
         plural(core_count(), "core", "cores") + ", " + plural(pu_count(), "PU", "PUs");
}

bool Topology::operator==(const Topology& other) const {
  if (d_ == other.d_) return true;
  const auto& a = *d_;
  const auto& b = *other.d_;
  return a.pus == b.pus && a.nodes == b.nodes && a.node_pus == b.node_pus &&
         a.distances == b.distances && a.caches == b.caches && a.cores == b.cores &&
         a.packages == b.packages;
}

Topology Topology::from_sysfs(const std::string& root) { return detail::load_sysfs(root); }

bool Topology::has_hwloc() noexcept {
#ifdef QUANTA_HAVE_HWLOC
  return true;
#else
  return false;
#endif
}

Topology Topology::from_synthetic(const std::string& desc) {
#ifdef QUANTA_HAVE_HWLOC
  return detail::load_hwloc_synthetic(desc);
#else
  throw UsageError("quanta: Topology::from_synthetic(\"" + desc +
                   "\"): synthetic topologies need hwloc, and this build has none (cross builds "
                   "read /sys only); check Topology::has_hwloc() first");
#endif
}

namespace {

Topology load_machine() {
#ifdef QUANTA_HAVE_HWLOC
  Topology machine = detail::load_hwloc_machine();
#else
  Topology machine = detail::load_sysfs("/sys");
#endif
  std::vector<int> allowed = detail::affinity_pus();
  if (allowed.empty()) return machine;  // sched_getaffinity failed: keep every PU
  return detail::restrict_topology(machine, allowed);
}

}  // namespace

const Topology& topology() {
  // The first call loads while holding the static-initialisation guard, a
  // kernel-thread lock: a ULT must not be preempted meanwhile.
  detail::RuntimeSection section;
  // A throwing initialiser leaves the static uninitialised: the next call
  // tries again.
  static const Topology machine = load_machine();
  return machine;
}

}  // namespace quanta
