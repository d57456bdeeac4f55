// A Boost.Fiber work_stealing pool of kWorkloadThreads kernel threads,
// shared by every peer case that runs fibers on several threads (the
// algorithm's process-wide state can be set up only once).
#pragma once
#include <boost/fiber/all.hpp>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "sampling.hpp"
#include "workloads.hpp"

namespace qbench {

// kWorkloadThreads kernel threads running Boost.Fiber's work_stealing
// algorithm, created on first use and kept until the process exits:
// work_stealing keeps process-wide state (the table of schedulers, sized by
// the first constructor, and a barrier over the threads) that cannot be set
// up a second time.
//
// Between jobs every pool thread blocks in the kernel at a gate, so the pool
// uses no CPU while other cases are measured. During a job the threads whose
// own queue is empty spin trying to steal (work_stealing without its
// `suspend` option: with it, an idle thread sleeps until a fiber is made
// ready on it specifically, and would never steal), which is how the
// algorithm spreads the work.
class FiberPool {
 public:
  static FiberPool& instance() {
    static FiberPool pool;
    return pool;
  }

  // Runs job in a fiber on the pool (the fibers it creates may run on any
  // pool thread) and returns the wall time from handing it over until it
  // returned. An exception thrown by job is rethrown here. Returns once every
  // pool thread is back at the gate.
  Clock::duration run(const std::function<void()>& job) {
    std::unique_lock lk(m_);
    cv_.wait(lk, [&] { return back_ == threads_.size(); });
    done_ = false;  // no pool thread looks at it while all are at the gate
    back_ = 0;
    finished_ = false;
    error_ = nullptr;
    job_ = &job;
    const auto t0 = Clock::now();
    ++generation_;
    cv_.notify_all();
    cv_.wait(lk, [&] { return finished_; });
    const auto elapsed = Clock::now() - t0;
    // Stealing threads spin until they see the job done: wait for them, so
    // that they do not spin into the next case's measurement.
    cv_.wait(lk, [&] { return back_ == threads_.size(); });
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
    return elapsed;
  }

  FiberPool(const FiberPool&) = delete;
  FiberPool& operator=(const FiberPool&) = delete;

  ~FiberPool() {
    {
      std::lock_guard lk(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  FiberPool() {
    threads_.reserve(kWorkloadThreads);
    for (unsigned i = 0; i < kWorkloadThreads; ++i) {
      threads_.emplace_back([this, i] { thread_main(i); });
    }
  }

  void thread_main(unsigned index) {
    // Returns once every pool thread has installed its scheduler (the
    // constructor waits on a barrier).
    boost::fibers::use_scheduling_algorithm<boost::fibers::algo::work_stealing>(kWorkloadThreads);
    std::uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock lk(m_);
        ++back_;
        cv_.notify_all();
        cv_.wait(lk, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
      }
      // Pool thread 0 starts the job; it and the fibers it creates are
      // stealable by every pool thread.
      if (index == 0) boost::fibers::fiber([this] { run_job(); }).detach();
      // The thread's main fiber waits here, so its scheduler runs (and
      // steals) fibers until the job is done.
      std::unique_lock lk(fm_);
      fcv_.wait(lk, [&] { return done_; });
    }
  }

  void run_job() {
    std::exception_ptr error;
    try {
      (*job_)();
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard lk(m_);
      error_ = error;
      finished_ = true;
    }
    cv_.notify_all();
    {
      std::lock_guard lk(fm_);
      done_ = true;
    }
    fcv_.notify_all();
  }

  // The gate, and the handshake with run().
  std::mutex m_;
  std::condition_variable cv_;
  const std::function<void()>* job_ = nullptr;
  std::uint64_t generation_ = 0;
  std::size_t back_ = 0;  // pool threads at the gate after the current job
  bool finished_ = false;
  bool stop_ = false;
  std::exception_ptr error_;

  // Fiber-aware: the main fibers of the pool threads wait on it.
  boost::fibers::mutex fm_;
  boost::fibers::condition_variable fcv_;
  bool done_ = false;

  std::vector<std::thread> threads_;
};

}  // namespace qbench
