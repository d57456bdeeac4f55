// The workloads of quanta-bench: whole programs (skynet, a recursive
// fibonacci with a spawn per call, spawn throughput from every worker, a
// token ring) run by quanta and by peers in the same process. Unlike the
// micro rows, one operation is often a whole run, and a workload may have
// rows with no quanta case yet (peer-only rows).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "report.hpp"
#include "sampling.hpp"

namespace qbench {

// Problem sizes, in one place. Full runs use the sizes of the usual
// published versions of these workloads; --quick shrinks each so that the
// whole group stays well under a few seconds.
struct WorkloadParams {
  // skynet: a 10-ary tree whose leaves are numbered 0 .. leaves-1 (a power
  // of 10); every leaf returns its number, every inner node the sum of its
  // children's, so the root returns leaves * (leaves - 1) / 2.
  std::uint64_t skynet_leaves = 1'000'000;
  // fib(n) = n < 2 ? n : fib(n - 1) (spawned) + fib(n - 2) (called).
  int fib_n = 30;
  // Spawn throughput: each driver (one per worker or thread) spawns this
  // many ULTs per sample, `spawn_fan_out` at a time, joining each group.
  std::uint64_t spawns_per_driver = 100'000;
  std::uint64_t spawn_fan_out = 100;
  // Thread-ring: a token passed around `ring_size` threads `ring_hops`
  // times; kernel threads do fewer hops, each costs microseconds.
  unsigned ring_size = 503;
  std::uint64_t ring_hops = 10'000'000;
  std::uint64_t ring_thread_hops = 100'000;
  // Mutex: `mutex_contenders` ULTs / threads share the increments of one
  // counter, each under the lock.
  unsigned mutex_contenders = 4;
  std::uint64_t mutex_increments = 1'000'000;
  unsigned mutex_hold = 0;  // busy_work() inside the lock (set per row)
  // Channel ping-pong: round trips of a value between two ULTs / fibers on
  // one worker / thread, over two channels.
  std::uint64_t pingpong_rounds = 500'000;
  // Channel throughput: messages from `channel_producers` to as many
  // consumers through one channel of `channel_capacity` slots.
  unsigned channel_producers = 2;
  std::size_t channel_capacity = 64;
  std::uint64_t channel_messages = 2'000'000;
  // Read sections: `readers` ULTs / threads reading a shared value.
  unsigned readers = 2;
  std::uint64_t read_sections = 20'000'000;
};
WorkloadParams workload_params(bool quick);

// Workers (quanta) and threads (peers) of the parallel workloads, and the
// stack size every ULT and fiber of the workloads gets: 1M ULTs may be live
// at once in skynet.
inline constexpr unsigned kWorkloadThreads = 2;
inline constexpr std::size_t kWorkloadStackSize = 16 * 1024;

// About n cycles of work the compiler cannot remove (a dependent chain).
inline void busy_work(unsigned n) {
  unsigned x = 0;
  for (unsigned i = 0; i < n; ++i) asm volatile("" : "+r"(x) : "r"(i));
}

// fib(n), for checking results.
std::uint64_t fib_value(int n);

// Throws std::runtime_error naming `what` when got != want.
void check_result(const std::string& what, std::uint64_t got, std::uint64_t want);

// Spawn throughput: the spawns each of the kWorkloadThreads drivers makes
// for `ops` spawns in all. Throws std::invalid_argument unless ops is a
// multiple of kWorkloadThreads * fan_out.
std::uint64_t driver_share(std::uint64_t ops, std::uint64_t fan_out);

// Each factory does the case's setup (a runtime, a thread pool, an arena)
// and returns its batch runner, which owns it. The batch runs `ops`
// operations and checks every result: a wrong one throws std::runtime_error.

// One op = one skynet run. quanta: Config{workers=2, preempt=false, 16 KiB
// stacks}, the scheduler named; every node is a ULT, inner nodes join their
// children.
Batch quanta_ws_skynet(const WorkloadParams&);
// Boost.Fiber, work_stealing on 2 threads, launch::dispatch, 16 KiB
// fixedsize_stack.
Batch boost_fiber_skynet(const WorkloadParams&);

// One op = one fib(fib_n) with a ULT / fiber / task per spawned call.
Batch quanta_ws_fib(const WorkloadParams&);
// oneTBB: a tbb::task_group per call, in a task_arena of 2 threads.
Batch tbb_fib(const WorkloadParams&);
Batch boost_fiber_fib(const WorkloadParams&);

// One op = one spawn (+ its join) of a trivial ULT: kWorkloadThreads
// drivers, spawned from the calling thread, each spawning its
// driver_share(ops) ULTs in groups of spawn_fan_out and joining each group
// before the next (a full run: ops = kWorkloadThreads * spawns_per_driver).
Batch quanta_rr_spawn_throughput(const WorkloadParams&);
Batch quanta_ws_spawn_throughput(const WorkloadParams&);
// The same on the Boost.Fiber work_stealing pool, launch::post.
Batch boost_fiber_spawn_throughput(const WorkloadParams&);

// One op = one hop of the token. Boost.Fiber: 503 fibers on one thread,
// each reading from its own buffered_channel. std::thread: 503 kernel
// threads, each waiting on its own binary semaphore.
// One op = one hop; quanta on one worker, each ULT waiting on its own
// quanta::Semaphore.
Batch quanta_ring(const WorkloadParams&);
Batch boost_fiber_ring(const WorkloadParams&);
Batch std_thread_ring(const WorkloadParams&);

// ops split over n parties (threads, ULTs, producers); throws
// std::invalid_argument naming `what` unless it splits evenly.
std::uint64_t share_of(const char* what, std::uint64_t ops, unsigned n);

// Synchronisation (sync_quanta.cpp, sync_peers.cpp). quanta runs on 2
// workers (work stealing) unless named; peers on as many threads.
// One op = one lock + increment + unlock, mutex_contenders at once.
Batch quanta_mutex(const WorkloadParams&);
Batch std_mutex(const WorkloadParams&);
// One op = one round trip (send, receive the echo) on one worker / thread.
Batch quanta_channel_pingpong(const WorkloadParams&);
Batch boost_fiber_channel_pingpong(const WorkloadParams&);
// One op = one message, producers and consumers on 2 workers / threads.
Batch quanta_channel_throughput(const WorkloadParams&);
Batch boost_fiber_channel_throughput(const WorkloadParams&);
// One op = one read section that loads a field of the shared value.
Batch quanta_rcu_read(const WorkloadParams&);
Batch std_shared_mutex_read(const WorkloadParams&);

// Measures the selected workload rows (all when filter is empty; a row is
// selected when "workloads: <benchmark> <quanta> / <peer>" contains the
// filter, case-insensitive). Returns an empty section when none is.
WorkloadSection measure_workloads(bool quick, const std::string& filter, bool progress);

// "<benchmark>: <quanta> / <peer>" per row, for --help.
std::vector<std::string> workload_rows();

// Whether any workload row matches the filter.
bool workloads_selected(const std::string& filter);

}  // namespace qbench
