// The workloads section of quanta-bench: which cases make up each row, how
// many samples each workload gets, and the notes printed under the table.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "workloads.hpp"

namespace qbench {

WorkloadParams workload_params(bool quick) {
  WorkloadParams p;
  if (quick) {
    p.skynet_leaves = 10'000;
    p.fib_n = 20;
    p.spawns_per_driver = 5'000;
    p.ring_hops = 100'000;
    p.ring_thread_hops = 2'000;
    p.mutex_increments = 40'000;
    p.pingpong_rounds = 10'000;
    p.channel_messages = 40'000;
    p.read_sections = 200'000;
  }
  return p;
}

std::uint64_t fib_value(int n) {
  std::uint64_t a = 0;
  std::uint64_t b = 1;
  for (int i = 0; i < n; ++i) {
    const std::uint64_t next = a + b;
    a = b;
    b = next;
  }
  return a;
}

void check_result(const std::string& what, std::uint64_t got, std::uint64_t want) {
  if (got != want) {
    throw std::runtime_error(what + ": got " + std::to_string(got) + ", expected " +
                             std::to_string(want));
  }
}

std::uint64_t driver_share(std::uint64_t ops, std::uint64_t fan_out) {
  if (fan_out == 0 || ops % (kWorkloadThreads * fan_out) != 0) {
    throw std::invalid_argument("spawn throughput: " + std::to_string(ops) +
                                " spawns do not split into groups of " + std::to_string(fan_out) +
                                " over " + std::to_string(kWorkloadThreads) + " drivers");
  }
  return ops / kWorkloadThreads;
}

std::uint64_t share_of(const char* what, std::uint64_t ops, unsigned n) {
  if (n == 0 || ops % n != 0) {
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(ops) +
                                " operations do not split over " + std::to_string(n));
  }
  return ops / n;
}

namespace {

struct CaseSpec {
  const char* impl;
  Batch (*make)(const WorkloadParams&);
  std::uint64_t (*ops)(const WorkloadParams&);  // per sample
};

std::uint64_t one_run(const WorkloadParams&) { return 1; }
std::uint64_t all_spawns(const WorkloadParams& p) {
  return kWorkloadThreads * p.spawns_per_driver;
}
std::uint64_t fiber_hops(const WorkloadParams& p) { return p.ring_hops; }
std::uint64_t thread_hops(const WorkloadParams& p) { return p.ring_thread_hops; }
std::uint64_t increments(const WorkloadParams& p) { return p.mutex_increments; }
std::uint64_t round_trips(const WorkloadParams& p) { return p.pingpong_rounds; }
std::uint64_t messages(const WorkloadParams& p) { return p.channel_messages; }
std::uint64_t read_sections(const WorkloadParams& p) { return p.read_sections; }

const CaseSpec kQuantaWsSkynet{"work-stealing", quanta_ws_skynet, one_run};
const CaseSpec kFiberSkynet{"Boost.Fiber work_stealing", boost_fiber_skynet, one_run};
const CaseSpec kQuantaWsFib{"work-stealing", quanta_ws_fib, one_run};
const CaseSpec kTbbFib{"TBB task_group", tbb_fib, one_run};
const CaseSpec kFiberFib{"Boost.Fiber work_stealing", boost_fiber_fib, one_run};
const CaseSpec kQuantaRrSpawn{"round-robin", quanta_rr_spawn_throughput, all_spawns};
const CaseSpec kQuantaWsSpawn{"work-stealing", quanta_ws_spawn_throughput, all_spawns};
const CaseSpec kFiberSpawn{"Boost.Fiber work_stealing", boost_fiber_spawn_throughput,
                           all_spawns};
const CaseSpec kQuantaRing{"1 worker, Semaphore per ULT", quanta_ring, fiber_hops};
const CaseSpec kFiberRing{"Boost.Fiber, 1 thread", boost_fiber_ring, fiber_hops};
const CaseSpec kThreadRing{"std::thread", std_thread_ring, thread_hops};
// The mutex rows differ only in the work done while holding the lock.
constexpr unsigned kMutexHold = 200;
WorkloadParams held(const WorkloadParams& p) {
  WorkloadParams q = p;
  q.mutex_hold = kMutexHold;
  return q;
}
const CaseSpec kQuantaMutex{"Mutex, ULTs", quanta_mutex, increments};
const CaseSpec kStdMutex{"std::mutex, threads", std_mutex, increments};
const CaseSpec kQuantaPingPong{"Channel, 1 worker", quanta_channel_pingpong, round_trips};
const CaseSpec kFiberPingPong{"Boost.Fiber buffered_channel, 1 thread",
                              boost_fiber_channel_pingpong, round_trips};
const CaseSpec kQuantaChanThroughput{"Channel", quanta_channel_throughput, messages};
const CaseSpec kFiberChanThroughput{"Boost.Fiber buffered_channel work_stealing",
                                    boost_fiber_channel_throughput, messages};
const CaseSpec kQuantaRcu{"Rcu::read, ULTs", quanta_rcu_read, read_sections};
const CaseSpec kSharedMutex{"std::shared_mutex read lock, threads", std_shared_mutex_read,
                            read_sections};
const CaseSpec kQuantaMutexHeld{
    "Mutex, ULTs", [](const WorkloadParams& p) { return quanta_mutex(held(p)); }, increments};
const CaseSpec kStdMutexHeld{
    "std::mutex, threads", [](const WorkloadParams& p) { return std_mutex(held(p)); },
    increments};

// One workload: its rows are sampled together, their cases interleaved.
struct Workload {
  const char* name;
  std::string (*label)(const WorkloadParams&);  // the benchmark column
  const char* op;                               // what one operation is
  int samples;                                  // per case, in a full run
  std::string (*note)(const WorkloadParams&);
};

// "10^6" for a power of ten, the number otherwise.
std::string power_of_ten(std::uint64_t v) {
  int e = 0;
  std::uint64_t x = v;
  while (x >= 10 && x % 10 == 0) {
    x /= 10;
    ++e;
  }
  return x == 1 && e > 1 ? "10^" + std::to_string(e) : std::to_string(v);
}

const Workload kSkynet{
    "skynet",
    [](const WorkloadParams& p) { return "skynet, " + power_of_ten(p.skynet_leaves) + " leaves"; },
    "run", 3, [](const WorkloadParams& p) {
      return "skynet: per run of a 10-ary tree of ULTs with " + power_of_ten(p.skynet_leaves) +
             " leaves; each leaf returns its number, each inner node spawns its 10 children and "
             "sums their results through join (checked: leaves*(leaves-1)/2). Boost.Fiber: the "
             "same tree of fibers, launch::dispatch, joined, on its work_stealing algorithm. "
             "Round-robin keeps a ULT spawned by a ULT on its worker's FIFO queue, so the tree "
             "grows breadth-first on one worker and is all live at once; work-stealing runs the "
             "newest spawn first and lets the other worker steal.";
    }};
const Workload kFib{
    "fibonacci",
    [](const WorkloadParams& p) {
      return "fibonacci(" + std::to_string(p.fib_n) + "), spawn per call";
    },
    "run", 3, [](const WorkloadParams& p) {
      return "fibonacci: per run of fib(" + std::to_string(p.fib_n) +
             ") = fib(n-1) + fib(n-2) where every call with n >= 2 spawns fib(n-1) as a ULT, "
             "computes fib(n-2) itself and joins (checked). TBB: a tbb::task_group per call in a "
             "task_arena of " + std::to_string(kWorkloadThreads) +
             " slots (the calling thread and TBB workers); Boost.Fiber: a fiber per call, "
             "launch::dispatch, joined.";
    }};
const Workload kSpawn{
    "spawn throughput",
    [](const WorkloadParams& p) {
      return "spawn throughput, " + std::to_string(kWorkloadThreads) + " drivers x groups of " +
             std::to_string(p.spawn_fan_out);
    },
    "spawn+join", 9, [](const WorkloadParams& p) {
      return "spawn throughput: per spawn+join, all drivers together (wall time / spawns): " +
             std::to_string(kWorkloadThreads) + " driver ULTs spawned from outside (round-robin "
             "puts one on each worker; work-stealing lets the workers take them) each spawn " +
             std::to_string(p.spawns_per_driver) + " ULTs returning 1, " +
             std::to_string(p.spawn_fan_out) +
             " at a time, joining each group before the next (checked: the sum). Boost.Fiber: "
             "driver fibers doing the same with launch::post (queued, as quanta's spawn).";
    }};
const Workload kRing{
    "thread-ring",
    [](const WorkloadParams& p) {
      return "thread-ring, " + std::to_string(p.ring_size) + " threads";
    },
    "hop", 5, [](const WorkloadParams& p) {
      return "thread-ring: per hop of a token passed around a ring of " +
             std::to_string(p.ring_size) +
             " threads, each hop decrementing it; the one that receives 0 ends the run (checked: "
             "which one). Boost.Fiber: " + power_of_ten(p.ring_hops) +
             " hops between fibers on one thread, each reading its own buffered_channel; "
             "std::thread: " + power_of_ten(p.ring_thread_hops) +
             " hops between kernel threads, each waiting on its own std::binary_semaphore. "
             "quanta: " + power_of_ten(p.ring_hops) +
             " hops between ULTs on one worker, each waiting on its own quanta::Semaphore.";
    }};

std::string mutex_note(const WorkloadParams& p) {
  return "mutex: per lock + increment + unlock of one shared counter, " +
         std::to_string(p.mutex_contenders) + " contenders sharing " +
         power_of_ten(p.mutex_increments) + " increments (checked: the count); the second row "
         "also runs " + std::to_string(kMutexHold) + " iterations of a dependent loop while "
         "holding the lock, so that contenders find it held and wait. quanta: ULTs on " +
         std::to_string(kWorkloadThreads) + " workers (a waiter spins briefly, then parks and "
         "its worker runs another ULT); std::mutex: as many kernel threads (a waiter sleeps in "
         "the kernel).";
}
const Workload kMutex{
    "mutex",
    [](const WorkloadParams& p) {
      return "mutex, " + std::to_string(p.mutex_contenders) + " contenders";
    },
    "lock+unlock", 9, mutex_note};
const Workload kMutexHeld{
    "mutex held",
    [](const WorkloadParams& p) {
      return "mutex, " + std::to_string(p.mutex_contenders) + " contenders, held " +
             std::to_string(kMutexHold) + " loops";
    },
    "lock+unlock", 9, [](const WorkloadParams&) { return std::string(); }};

const Workload kPingPong{
    "channel ping-pong",
    [](const WorkloadParams&) { return std::string("channel ping-pong, 2 slots"); },
    "round trip", 5, [](const WorkloadParams& p) {
      return "channel ping-pong: per round trip of a value between two ULTs on one worker "
             "through two channels of 2 slots (send, the other receives and sends back +1), " +
             power_of_ten(p.pingpong_rounds) +
             " round trips (checked: the last value). Boost.Fiber: two fibers on one thread, "
             "two buffered_channel of 2 slots (its smallest).";
    }};
const Workload kChanThroughput{
    "channel throughput",
    [](const WorkloadParams& p) {
      return "channel throughput, " + std::to_string(p.channel_producers) + "P/" +
             std::to_string(p.channel_producers) + "C, " + std::to_string(p.channel_capacity) +
             " slots";
    },
    "message", 5, [](const WorkloadParams& p) {
      return "channel throughput: per message of " + power_of_ten(p.channel_messages) +
             " sent by " + std::to_string(p.channel_producers) + " producers to as many "
             "consumers through one channel of " + std::to_string(p.channel_capacity) +
             " slots (checked: the sum), quanta ULTs on " + std::to_string(kWorkloadThreads) +
             " workers, Boost.Fiber fibers on its work_stealing pool of as many threads.";
    }};
const Workload kRcuRead{
    "read section",
    [](const WorkloadParams& p) {
      return "read section, " + std::to_string(p.readers) + " readers";
    },
    "read", 5, [](const WorkloadParams& p) {
      return "read section: per read of one field of a shared value by " +
             std::to_string(p.readers) + " concurrent readers, " +
             power_of_ten(p.read_sections) +
             " reads (checked: the sum); quanta: Rcu<T>::read() guards in ULTs on " +
             std::to_string(kWorkloadThreads) + " workers; std::shared_mutex: a shared_lock "
             "per read in as many kernel threads.";
    }};

struct RowSpec {
  const Workload* workload;
  const CaseSpec* quanta;      // nullptr: no quanta case yet
  const char* quanta_missing;  // why, shown in its place
  const CaseSpec* peer;
};

// Round-robin is not run on skynet and fibonacci: a ULT spawned by a ULT
// waits in its worker's FIFO, so the tree grows breadth-first and is all
// live at once (skynet: ~10 GB of stacks, 7-15 s per run; see
// docs/performance.md); work stealing runs it depth-first.
const RowSpec kRows[] = {
    {&kSkynet, &kQuantaWsSkynet, nullptr, &kFiberSkynet},
    {&kFib, &kQuantaWsFib, nullptr, &kTbbFib},
    {&kFib, &kQuantaWsFib, nullptr, &kFiberFib},
    {&kSpawn, &kQuantaRrSpawn, nullptr, &kFiberSpawn},
    {&kSpawn, &kQuantaWsSpawn, nullptr, &kFiberSpawn},
    {&kRing, &kQuantaRing, nullptr, &kFiberRing},
    {&kRing, &kQuantaRing, nullptr, &kThreadRing},
    {&kMutex, &kQuantaMutex, nullptr, &kStdMutex},
    {&kMutexHeld, &kQuantaMutexHeld, nullptr, &kStdMutexHeld},
    {&kPingPong, &kQuantaPingPong, nullptr, &kFiberPingPong},
    {&kChanThroughput, &kQuantaChanThroughput, nullptr, &kFiberChanThroughput},
    {&kRcuRead, &kQuantaRcu, nullptr, &kSharedMutex},
};

constexpr int kQuickSamples = 3;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string quanta_text(const RowSpec& r) { return r.quanta ? r.quanta->impl : r.quanta_missing; }

// What --filter is matched against, and what --help lists.
std::string row_key(const RowSpec& r) {
  return std::string("workloads: ") + r.workload->name + ": quanta " + quanta_text(r) + " / " +
         r.peer->impl;
}

bool matches(const RowSpec& r, const std::string& filter) {
  return filter.empty() || lower(row_key(r)).find(lower(filter)) != std::string::npos;
}

}  // namespace

std::vector<std::string> workload_rows() {
  std::vector<std::string> v;
  for (const RowSpec& r : kRows) v.push_back(row_key(r));
  return v;
}

bool workloads_selected(const std::string& filter) {
  return std::any_of(std::begin(kRows), std::end(kRows),
                     [&](const RowSpec& r) { return matches(r, filter); });
}

WorkloadSection measure_workloads(bool quick, const std::string& filter, bool progress) {
  const WorkloadParams params = workload_params(quick);
  WorkloadSection out;
  std::string samples_text;
  for (const Workload* w : {&kSkynet, &kFib, &kSpawn, &kRing, &kMutex, &kMutexHeld,
                            &kPingPong, &kChanThroughput, &kRcuRead}) {
    std::vector<const RowSpec*> rows;
    for (const RowSpec& r : kRows) {
      if (r.workload == w && matches(r, filter)) rows.push_back(&r);
    }
    if (rows.empty()) continue;
    // A case shared by several rows (the peer of both schedulers) is
    // measured once.
    std::vector<const CaseSpec*> specs;
    for (const RowSpec* r : rows) {
      for (const CaseSpec* c : {r->quanta, r->peer}) {
        if (c && std::find(specs.begin(), specs.end(), c) == specs.end()) specs.push_back(c);
      }
    }
    const int samples = quick ? kQuickSamples : w->samples;
    if (progress) std::cerr << "measuring workload " << w->name << " ...\n";
    std::vector<Stats> stats;
    {
      std::vector<Case> cases;
      for (const CaseSpec* c : specs) cases.push_back({c->make(params), c->ops(params)});
      stats = sample_interleaved(cases, samples);
    }  // runtimes, arenas released here (the Boost.Fiber pool stays, idle)
    auto measured = [&](const CaseSpec* c) {
      const auto i = static_cast<std::size_t>(std::find(specs.begin(), specs.end(), c) -
                                              specs.begin());
      return Measured{c->impl, stats[i]};
    };
    for (const RowSpec* r : rows) {
      WorkloadRow row;
      row.benchmark = w->label(params);
      row.op = w->op;
      if (r->quanta) {
        row.quanta = measured(r->quanta);
      } else {
        row.quanta_missing = r->quanta_missing;
      }
      row.peer = measured(r->peer);
      out.rows.push_back(std::move(row));
    }
    if (std::string note = w->note(params); !note.empty()) out.notes.push_back(std::move(note));
    if (!samples_text.empty()) samples_text += ", ";
    samples_text += w->name + std::string(" ") + std::to_string(samples);
  }
  if (!out.rows.empty()) {
    char buf[300];
    std::snprintf(buf, sizeof buf,
                  "quanta Config{workers=%u, preempt=false, stack_size=%zu KiB}, scheduler as "
                  "named; peers on %u threads unless named, fibers with %zu KiB fixedsize_stack; "
                  "samples per case: ",
                  kWorkloadThreads, kWorkloadStackSize / 1024, kWorkloadThreads,
                  kWorkloadStackSize / 1024);
    out.setup = buf + samples_text;
  }
  return out;
}

}  // namespace qbench
