// quanta — the Linux sysfs topology reader (no hwloc): the machine loader of
// cross builds, and Topology::from_sysfs everywhere.
//
// Files read, under <root>/devices/system:
//   cpu/online                                  required: the CPUs (PUs)
//   cpu/cpuN/topology/physical_package_id       package key (-1 or missing: 0)
//   cpu/cpuN/topology/core_cpus_list            core key = its lowest CPU;
//     else thread_siblings_list, else core_id   (else each CPU is its own core)
//   cpu/cpuN/cache/indexK/{level,type,shared_cpu_list}   Data/Unified caches
//   node/online                                 optional filter of node dirs
//   node/nodeN/cpulist                          required for each node dir
//   node/nodeN/distance                         one value per node (optional)
// A machine without node directories is one node 0 holding every CPU.
// Offline CPUs listed in sibling or cache lists are dropped.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "quanta/error.hpp"
#include "topology/topology_data.hpp"

namespace quanta::detail {
namespace {

// The whole file, or nullopt with errno set.
std::optional<std::string> read_text(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      errno = e;
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  return out;
}

[[noreturn]] void bad_file(const std::string& path, const std::string& why) {
  throw ResourceError("quanta: topology from sysfs: " + path + ": " + why);
}

std::string required_text(const std::string& path) {
  auto t = read_text(path);
  if (!t) {
    int e = errno;
    bad_file(path, std::string("cannot read (") + std::strerror(e) + ")");
  }
  return *t;
}

std::vector<int> required_cpulist(const std::string& path) {
  std::string t = required_text(path);
  std::vector<int> out;
  if (!parse_cpulist(t, out)) bad_file(path, "\"" + t + "\" is not a CPU list such as 0-3,8");
  return out;
}

std::optional<std::vector<int>> optional_cpulist(const std::string& path) {
  auto t = read_text(path);
  if (!t) return std::nullopt;
  std::vector<int> out;
  if (!parse_cpulist(*t, out)) bad_file(path, "\"" + *t + "\" is not a CPU list such as 0-3,8");
  return out;
}

std::optional<long> optional_long(const std::string& path) {
  auto t = read_text(path);
  if (!t) return std::nullopt;
  const char* s = t->c_str();
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s, &end, 10);
  while (end && (*end == '\n' || *end == ' ')) ++end;
  if (end == s || errno == ERANGE || (end && *end))
    bad_file(path, "\"" + *t + "\" is not a number");
  return v;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Entries "<prefix><number>" of a directory, ascending; nullopt if the
// directory cannot be opened.
std::optional<std::vector<unsigned>> numbered_entries(const std::string& dir, const char* prefix) {
  DIR* d = opendir(dir.c_str());
  if (!d) return std::nullopt;
  std::vector<unsigned> out;
  const std::size_t plen = std::strlen(prefix);
  while (dirent* e = readdir(d)) {
    const char* name = e->d_name;
    if (std::strncmp(name, prefix, plen) != 0 || !name[plen]) continue;
    char* end = nullptr;
    unsigned long v = std::strtoul(name + plen, &end, 10);
    if (*end || name[plen] < '0' || name[plen] > '9') continue;
    out.push_back(static_cast<unsigned>(v));
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

bool contains(const std::vector<int>& sorted, int v) {
  return std::binary_search(sorted.begin(), sorted.end(), v);
}

std::vector<int> only_online(const std::vector<int>& pus, const std::vector<int>& online) {
  std::vector<int> out;
  for (int p : pus)
    if (contains(online, p)) out.push_back(p);
  return out;
}

}  // namespace

Topology load_sysfs(const std::string& root) {
  const std::string cpu_dir = root + "/devices/system/cpu";
  const std::string node_dir = root + "/devices/system/node";
  TopologyFacts f;

  const std::vector<int> online = required_cpulist(cpu_dir + "/online");
  if (online.empty()) bad_file(cpu_dir + "/online", "lists no CPUs");

  for (int cpu : online) {
    const std::string base = cpu_dir + "/cpu" + std::to_string(cpu);
    const std::string topo = base + "/topology/";
    TopologyFacts::Pu pu;
    pu.os = cpu;
    long package = optional_long(topo + "physical_package_id").value_or(0);
    pu.package = package < 0 ? 0 : package;
    if (auto s = optional_cpulist(topo + "core_cpus_list"); s && !s->empty()) {
      pu.core = s->front();
    } else if (auto t = optional_cpulist(topo + "thread_siblings_list"); t && !t->empty()) {
      pu.core = t->front();
    } else if (auto id = optional_long(topo + "core_id"); id && *id >= 0) {
      // core_id is unique within a package only (the builder keys cores by
      // package and core); negative keys keep it apart from CPU numbers.
      pu.core = -2 - *id;
    } else {
      pu.core = cpu;
    }
    f.pus.push_back(pu);

    const std::string cache_dir = base + "/cache";
    if (auto indexes = numbered_entries(cache_dir, "index")) {
      for (unsigned k : *indexes) {
        const std::string idx = cache_dir + "/index" + std::to_string(k) + "/";
        auto type = read_text(idx + "type");
        if (!type) continue;
        const std::string ty = trimmed(*type);
        if (ty != "Data" && ty != "Unified") continue;
        auto level = optional_long(idx + "level");
        auto shared = optional_cpulist(idx + "shared_cpu_list");
        if (!level || *level <= 0) continue;
        std::vector<int> pus = shared ? only_online(*shared, online) : std::vector<int>{cpu};
        if (pus.empty()) pus.push_back(cpu);
        f.caches.push_back({static_cast<unsigned>(*level), std::move(pus)});
      }
    }
  }

  if (auto nodes = numbered_entries(node_dir, "node"); nodes && !nodes->empty()) {
    std::optional<std::vector<int>> node_online = optional_cpulist(node_dir + "/online");
    std::vector<std::vector<unsigned>> rows;
    for (unsigned n : *nodes) {
      if (node_online && !contains(*node_online, static_cast<int>(n))) continue;
      const std::string nd = node_dir + "/node" + std::to_string(n) + "/";
      f.nodes.push_back({n, only_online(required_cpulist(nd + "cpulist"), online)});
      std::vector<unsigned> row;
      if (auto text = read_text(nd + "distance")) {
        std::istringstream in(*text);
        long v;
        while (in >> v) row.push_back(v > 0 ? static_cast<unsigned>(v) : 0u);
      }
      rows.push_back(std::move(row));
    }
    // distance files list one value per online node, in node order; use them
    // only when every row has exactly that many.
    bool complete = true;
    for (const auto& r : rows) complete = complete && r.size() == f.nodes.size();
    if (complete)
      for (const auto& r : rows) f.distances.insert(f.distances.end(), r.begin(), r.end());
  }

  return TopologyBuilder::build(std::move(f), "sysfs at " + root);
}

}  // namespace quanta::detail
