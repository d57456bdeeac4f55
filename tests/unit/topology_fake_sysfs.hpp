// quanta tests — fake Linux sysfs trees for the topology readers. A tree
// lives in a temporary directory <dir>/sys/devices/system/... and is removed
// with its FakeSysfs. CPU sets are written both as lists (cpulist,
// *_list: what the sysfs reader reads) and as hex masks (cpumap, *_map,
// thread_siblings...: what hwloc reads), as the kernel does.
#pragma once
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "topology/topology_data.hpp"

namespace quanta::test {

class FakeSysfs {
 public:
  FakeSysfs() {
    std::string tmpl = (base_dir() / "quanta-sysfs-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
    dir_ = tmpl;
  }
  ~FakeSysfs() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  FakeSysfs(const FakeSysfs&) = delete;
  FakeSysfs& operator=(const FakeSysfs&) = delete;

  // What Topology::from_sysfs takes (the "/sys" of the fake machine).
  std::string root() const { return dir_ + "/sys"; }
  // The file-system root holding sys/ (what HWLOC_FSROOT takes).
  const std::string& fsroot() const { return dir_; }

  // Writes <root>/devices/system/<rel> with `text` and a newline, as sysfs does.
  void write(const std::string& rel, const std::string& text) {
    std::filesystem::path p = std::filesystem::path(root()) / "devices/system" / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text << "\n";
  }
  // A CPU set under both names: `list_rel` as a cpulist, `map_rel` as a mask.
  void cpus(const std::string& list_rel, const std::string& map_rel, const std::string& list) {
    write(list_rel, list);
    write(map_rel, mask(list));
  }
  // cpu/cpuN/topology/<name>_list and <name>.
  void topology(int cpu, const std::string& name, const std::string& list) {
    const std::string base = "cpu/cpu" + std::to_string(cpu) + "/topology/" + name;
    cpus(base + "_list", base, list);
  }
  void cpu_file(int cpu, const std::string& rel, const std::string& text) {
    write("cpu/cpu" + std::to_string(cpu) + "/" + rel, text);
  }
  void cache(int cpu, int index, int level, const std::string& type, const std::string& shared) {
    const std::string dir =
        "cpu/cpu" + std::to_string(cpu) + "/cache/index" + std::to_string(index) + "/";
    write(dir + "level", std::to_string(level));
    write(dir + "type", type);
    write(dir + "size", level == 1 ? "32K" : (level == 2 ? "1024K" : "32768K"));
    cpus(dir + "shared_cpu_list", dir + "shared_cpu_map", shared);
  }
  void node(unsigned n, const std::string& list, const std::string& distance_row) {
    const std::string dir = "node/node" + std::to_string(n) + "/";
    cpus(dir + "cpulist", dir + "cpumap", list);
    if (!distance_row.empty()) write(dir + "distance", distance_row);
  }

  // The kernel's mask format: 32-bit hex words, most significant first,
  // separated by commas ("00000001,0000ffff").
  static std::string mask(const std::string& list) {
    std::vector<int> cpus;
    if (!quanta::detail::parse_cpulist(list, cpus)) throw std::runtime_error("bad cpulist " + list);
    const int top = cpus.empty() ? 0 : cpus.back();
    std::vector<unsigned> words(static_cast<std::size_t>(top / 32 + 1), 0);
    for (int c : cpus) words[static_cast<std::size_t>(c / 32)] |= 1u << (c % 32);
    std::string out;
    for (std::size_t i = words.size(); i-- > 0;) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%08x", words[i]);
      if (!out.empty()) out += ',';
      out += buf;
    }
    return out;
  }

 private:
  // $TMPDIR when set, else /dev/shm when writable (a tree holds hundreds of
  // small files: tmpfs writes them far faster than a disk), else /tmp.
  static std::filesystem::path base_dir() {
    const char* tmpdir = getenv("TMPDIR");
    if (!(tmpdir && *tmpdir) && access("/dev/shm", W_OK | X_OK) == 0) return "/dev/shm";
    return std::filesystem::temp_directory_path();
  }
  std::string dir_;
};

enum class L3Scope { Package, Node, None };

inline std::string pair_list(int a, int b) { return std::to_string(a) + "," + std::to_string(b); }
inline std::string span(int lo, int hi) { return std::to_string(lo) + "-" + std::to_string(hi); }

// 2 packages x 2 NUMA nodes x 2 cores x 2 PUs, numbered the way x86 kernels
// do: first hardware threads 0-7, their SMT siblings 8-15. Core c (0..7) holds
// PUs c and c+8, node n holds cores 2n and 2n+1, package p holds nodes 2p and
// 2p+1. L1d, L1i and L2 per core; L3 per package, per node or absent.
// Distances: 10 local, 20 same package, 30 other package.
inline void two_packages_four_nodes(FakeSysfs& s, L3Scope l3) {
  s.write("cpu/online", "0-15");
  s.write("cpu/possible", "0-15");
  for (int c = 0; c < 8; ++c) {
    const int pkg = c / 4;
    const int n = c / 2;
    const std::string package = span(4 * pkg, 4 * pkg + 3) + "," + span(4 * pkg + 8, 4 * pkg + 11);
    const std::string node = span(2 * n, 2 * n + 1) + "," + span(2 * n + 8, 2 * n + 9);
    for (int pu : {c, c + 8}) {
      s.cpu_file(pu, "topology/physical_package_id", std::to_string(pkg));
      s.cpu_file(pu, "topology/core_id", std::to_string(c % 4));
      s.topology(pu, "core_cpus", pair_list(c, c + 8));
      s.topology(pu, "thread_siblings", pair_list(c, c + 8));
      s.topology(pu, "package_cpus", package);
      s.topology(pu, "core_siblings", package);
      s.cache(pu, 0, 1, "Data", pair_list(c, c + 8));
      s.cache(pu, 1, 1, "Instruction", pair_list(c, c + 8));
      s.cache(pu, 2, 2, "Unified", pair_list(c, c + 8));
      if (l3 == L3Scope::Package) s.cache(pu, 3, 3, "Unified", package);
      if (l3 == L3Scope::Node) s.cache(pu, 3, 3, "Unified", node);
    }
  }
  s.write("node/online", "0-3");
  s.write("node/possible", "0-3");
  for (unsigned n = 0; n < 4; ++n) {
    std::string row;
    for (unsigned m = 0; m < 4; ++m) {
      if (m) row += ' ';
      row += n == m ? "10" : (n / 2 == m / 2 ? "20" : "30");
    }
    s.node(n,
           span(2 * static_cast<int>(n), 2 * static_cast<int>(n) + 1) + "," +
               span(2 * static_cast<int>(n) + 8, 2 * static_cast<int>(n) + 9),
           row);
  }
}

// One package of 4 PUs in 2 SMT cores, a shared L3, and no node directory
// (a kernel without NUMA).
inline void one_package_no_nodes(FakeSysfs& s) {
  s.write("cpu/online", "0-3");
  s.write("cpu/possible", "0-3");
  for (int pu = 0; pu < 4; ++pu) {
    const std::string core = pu < 2 ? "0-1" : "2-3";
    s.cpu_file(pu, "topology/physical_package_id", "0");
    s.cpu_file(pu, "topology/core_id", std::to_string(pu / 2));
    s.topology(pu, "core_cpus", core);
    s.topology(pu, "thread_siblings", core);
    s.topology(pu, "package_cpus", "0-3");
    s.topology(pu, "core_siblings", "0-3");
    s.cache(pu, 0, 1, "Data", core);
    s.cache(pu, 2, 2, "Unified", core);
    s.cache(pu, 3, 3, "Unified", "0-3");
  }
}

// CPU 3 offline (its directory stays), nodes 0 and 2 (node numbers with a
// gap), one core per CPU, one package, an L2 over every CPU.
inline void offline_cpu_sparse_nodes(FakeSysfs& s) {
  s.write("cpu/online", "0-2,4");
  s.write("cpu/possible", "0-4");
  for (int pu = 0; pu < 5; ++pu) {
    s.cpu_file(pu, "topology/physical_package_id", "0");
    s.cpu_file(pu, "topology/core_id", std::to_string(pu));
    s.topology(pu, "core_cpus", std::to_string(pu));
    s.topology(pu, "thread_siblings", std::to_string(pu));
    s.topology(pu, "package_cpus", "0-4");
    s.topology(pu, "core_siblings", "0-4");
    s.cache(pu, 0, 2, "Unified", "0-4");
  }
  s.write("node/online", "0,2");
  s.write("node/possible", "0-2");
  s.node(0, "0-1", "10 21");
  s.node(2, "2,4", "21 10");  // the kernel drops offline CPUs from nodes
}

}  // namespace quanta::test
