// Config::trace_file / QUANTA_TRACE: a run with tracing on writes a Chrome
// trace-event JSON file whose slices and instants agree with the runtime's
// own counters; a small ring that wraps still gives a valid, balanced file
// and says how much it dropped; a path that cannot be written is a
// ConfigError; tracing off records and writes nothing; the committed example
// trace stays valid.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "env_var.hpp"
#include "test_support.hpp"
#include "trace/hooks.hpp"
#include "trace_check.hpp"

namespace {

using namespace std::chrono_literals;
using quanta::Config;
using quanta::Runtime;
using quanta::test::TraceSummary;

std::string temp_path(const std::string& tag) {
  return testing::TempDir() + "quanta_trace_" + tag + "_" + std::to_string(::getpid()) + ".json";
}

// What the runtime counted, summed over its workers.
struct Counters {
  std::uint64_t yields = 0, preemptions = 0, steals = 0, local_spawns = 0, spawns = 0;
};

Counters counters_of(Runtime& rt) {
  Counters c;
  for (auto* w : quanta::test::workers_of(rt)) {
    c.yields += w->yields.load();
    c.preemptions += w->preempt_taken.load();
    c.steals += w->steals.load();
    c.local_spawns += w->spawned.load();
  }
  c.spawns = c.local_spawns + rt.impl().external_spawned.load();
  return c;
}

// The ids of the ULTs of a run; each ULT adds its own.
struct Ids {
  quanta::Mutex mu;
  std::vector<std::uint64_t> ids;
  void add() {
    std::lock_guard lk(mu);
    ids.push_back(quanta::this_thread::id());
  }
};

// A small application: ULTs that yield, take turns through a Mutex and a
// CondVar, sleep, wait with a timeout, and spawn and join children (one
// named). Returns the named ULT's id.
std::uint64_t run_app(Runtime& rt, Ids& ids) {
  std::uint64_t named = 0;
  rt.spawn([&] {
      ids.add();
      std::vector<quanta::JoinHandle<void>> hs;
      for (int i = 0; i < 4; ++i) {
        hs.push_back(rt.spawn([&] {
          ids.add();
          for (int k = 0; k < 50; ++k) quanta::this_thread::yield();
        }));
      }
      quanta::Mutex m;
      quanta::CondVar cv;
      int turn = 0;
      for (int me = 0; me < 2; ++me) {
        hs.push_back(rt.spawn([&, me] {
          ids.add();
          for (int k = 0; k < 20; ++k) {
            std::unique_lock lk(m);
            cv.wait(lk, [&] { return turn % 2 == me; });
            ++turn;
            cv.notify_all();
          }
        }));
      }
      hs.push_back(rt.spawn([&] {
        ids.add();
        for (int k = 0; k < 3; ++k) quanta::this_thread::sleep_for(1ms);
      }));
      quanta::Mutex tm;
      quanta::CondVar tcv;
      bool ready = false;
      hs.push_back(rt.spawn([&] {
        ids.add();
        std::unique_lock lk(tm);
        while (!ready) tcv.wait_for(lk, 2ms);  // times out, or is notified
      }));
      hs.push_back(rt.spawn([&] {
        ids.add();
        quanta::this_thread::sleep_for(1ms);
        std::lock_guard lk(tm);
        ready = true;
        tcv.notify_all();
      }));
      auto parent = quanta::ThreadBuilder().name("trace \"parent\"").spawn(rt, [&] {
        ids.add();
        std::vector<quanta::JoinHandle<int>> kids;
        for (int i = 0; i < 6; ++i) {
          kids.push_back(rt.spawn([&, i] {
            ids.add();
            quanta::this_thread::yield();
            return i;
          }));
        }
        for (auto& k : kids) k.join();
      });
      named = parent.id();
      parent.join();
      for (auto& h : hs) h.join();
    })
      .join();
  return named;
}

// The checks every traced run of run_app must pass.
void check_app_trace(const TraceSummary& s, const Counters& c, const Ids& ids,
                     std::uint64_t named) {
  ASSERT_TRUE(s.parsed);
  EXPECT_EQ(s.dropped_events, 0);
  EXPECT_EQ(s.threads.size(), 2u);
  for (const std::uint64_t id : ids.ids)
    EXPECT_TRUE(s.slice_names.count(id)) << "ULT " << id << " has no run slice";
  EXPECT_EQ(ids.ids.size(), c.spawns);
  // One slice end per counted event of the runtime.
  EXPECT_EQ(s.reasons.count("exit") ? s.reasons.at("exit") : 0, c.spawns);
  EXPECT_EQ(s.reasons.count("yield") ? s.reasons.at("yield") : 0, c.yields);
  EXPECT_EQ(s.reasons.count("preempt") ? s.reasons.at("preempt") : 0, c.preemptions);
  EXPECT_EQ(s.instants.count("preempt") ? s.instants.at("preempt") : 0, c.preemptions);
  EXPECT_GT(s.reasons.count("park") ? s.reasons.at("park") : 0, 0u);  // joins at least
  EXPECT_EQ(s.instants.count("spawn") ? s.instants.at("spawn") : 0, c.local_spawns);
  EXPECT_EQ(s.instants.count("steal") ? s.instants.at("steal") : 0, c.steals);
  EXPECT_GT(s.instants.count("wake") ? s.instants.at("wake") : 0, 0u);
  ASSERT_TRUE(s.slice_names.count(named));
  EXPECT_EQ(*s.slice_names.at(named).begin(), "trace \"parent\"");
  EXPECT_EQ(s.slice_names.at(named).size(), 1u);
}

void run_and_check(Config cfg, const std::string& tag) {
  const std::string path = temp_path(tag);
  cfg.trace_file = path;
  Ids ids;
  std::uint64_t named = 0;
  Counters c;
  {
    Runtime rt(cfg);
    named = run_app(rt, ids);
    c = counters_of(rt);
  }
  check_app_trace(quanta::test::check_trace_file(path), c, ids, named);
  std::remove(path.c_str());
}

TEST(Trace, WorkStealingRunIsBalancedAndMatchesTheCounters) {
  run_and_check(quanta::test::work_stealing(2, true), "ws");
}

TEST(Trace, RoundRobinRunIsBalancedAndMatchesTheCounters) {
  run_and_check(quanta::test::round_robin(2, true), "rr");
}

TEST(Trace, PreemptedSpinnersEndSlicesWithPreempt) {
  const std::string path = temp_path("preempt");
  Config cfg = quanta::test::preemptive(2, 1000us);
  cfg.trace_file = path;
  Counters c;
  {
    Runtime rt(cfg);
    // Three spinners on two workers: the third runs only if one of the
    // others is preempted.
    std::atomic<int> started{0};
    std::atomic<bool> stop{false};
    std::vector<quanta::JoinHandle<void>> hs;
    for (int i = 0; i < 3; ++i) {
      hs.push_back(rt.spawn([&] {
        started.fetch_add(1);
        while (!stop.load(std::memory_order_relaxed)) quanta::test::burn(1000);
      }));
    }
    const bool all = quanta::test::eventually([&] { return started.load() == 3; });
    stop = true;
    for (auto& h : hs) h.join();
    EXPECT_TRUE(all) << "the third spinner never ran";
    c = counters_of(rt);
  }
  const TraceSummary s = quanta::test::check_trace_file(path);
  ASSERT_TRUE(s.parsed);
  EXPECT_GT(c.preemptions, 0u);
  EXPECT_EQ(s.reasons.count("preempt") ? s.reasons.at("preempt") : 0, c.preemptions);
  EXPECT_EQ(s.instants.count("preempt") ? s.instants.at("preempt") : 0, c.preemptions);
  EXPECT_EQ(s.reasons.at("exit"), 3u);
  std::remove(path.c_str());
}

TEST(Trace, WrappedRingStaysBalancedAndReportsTheDrops) {
  const std::string path = temp_path("wrap");
  // One worker, so that the yields switch between the three ULTs (each
  // records two events) whatever the timing: far more than 64.
  Config cfg = quanta::test::config(1);
  cfg.trace_file = path;
  cfg.trace_buffer = 64;
  testing::internal::CaptureStderr();
  {
    Runtime rt(cfg);
    rt.spawn([&rt] {
        std::vector<quanta::JoinHandle<void>> hs;
        for (int i = 0; i < 3; ++i) {
          hs.push_back(rt.spawn([] {
            for (int k = 0; k < 300; ++k) quanta::this_thread::yield();
          }));
        }
        for (auto& h : hs) h.join();
      })
        .join();
  }
  const std::string err = testing::internal::GetCapturedStderr();
  const TraceSummary s = quanta::test::check_trace_file(path);  // balanced, valid
  ASSERT_TRUE(s.parsed);
  EXPECT_EQ(s.buffer_events, 64);
  EXPECT_GT(s.dropped_events, 0);
  EXPECT_EQ(s.dropped_events, s.recorded_events - s.buffer_events);  // the ring keeps 64
  EXPECT_GT(s.slices, 0u);
  const std::string needle = "events dropped";
  const std::size_t at = err.find(needle);
  EXPECT_NE(at, std::string::npos) << err;
  EXPECT_EQ(err.find(needle, at + 1), std::string::npos) << "reported once: " << err;
  EXPECT_NE(err.find(path), std::string::npos) << err;
  std::remove(path.c_str());
}

// A hook called where the ULT may be preempted (here: from application
// code, outside any runtime section) is a runtime bug: it aborts, naming the
// hook, instead of racing with the hooks of a preemption.
TEST(Trace, HookOutsideARuntimeSectionAborts) {
  GTEST_FLAG_SET(death_test_style, "fast");
  const std::string path = temp_path("death");
  EXPECT_DEATH(
      {
        Config cfg = quanta::test::config(1);
        cfg.trace_file = path;
        Runtime rt(cfg);
        rt.spawn([] {
            quanta::detail::Ult* u = quanta::test::current_ult();
            quanta::detail::trace_first_run(*u->worker, u);
          })
            .join();
      },
      "trace hook trace_first_run ran where its ULT may be preempted");
  std::remove(path.c_str());
}

// docs/trace-example.json, written by examples/trace_pipeline, is what the
// documentation shows: it must stay a valid, balanced trace.
TEST(Trace, CommittedExampleIsValidAndBalanced) {
  const TraceSummary s =
      quanta::test::check_trace_file(std::string(QUANTA_SOURCE_DIR) + "/docs/trace-example.json");
  ASSERT_TRUE(s.parsed);
  EXPECT_EQ(s.dropped_events, 0);
  EXPECT_EQ(s.threads.size(), 2u);
  EXPECT_GT(s.reasons.count("preempt") ? s.reasons.at("preempt") : 0, 0u);
  EXPECT_GT(s.reasons.count("park") ? s.reasons.at("park") : 0, 0u);
  EXPECT_GT(s.instants.count("spawn") ? s.instants.at("spawn") : 0, 0u);
}

TEST(Trace, UnwritablePathIsAConfigErrorNamingItAndTheReason) {
  Config cfg = quanta::test::config(1);
  cfg.trace_file = "/nonexistent-quanta-dir/trace.json";
  std::string what;
  try {
    Runtime rt(cfg);
  } catch (const quanta::ConfigError& e) {
    what = e.what();
  }
  EXPECT_NE(what.find("Config::trace_file"), std::string::npos) << what;
  EXPECT_NE(what.find("\"/nonexistent-quanta-dir/trace.json\""), std::string::npos) << what;
  EXPECT_NE(what.find(std::strerror(ENOENT)), std::string::npos) << what;
}

TEST(Trace, TwoLiveRuntimesCannotShareATraceFile) {
  const std::string path = temp_path("shared");
  Config cfg = quanta::test::config(1);
  cfg.trace_file = path;
  {
    Runtime first(cfg);
    auto h = first.spawn([] { quanta::this_thread::yield(); });
    // The same file under another spelling of its path.
    const std::size_t slash = path.rfind('/');
    Config other = cfg;
    other.trace_file = path.substr(0, slash) + "/./" + path.substr(slash + 1);
    std::string what;
    try {
      Runtime second(other);
    } catch (const quanta::ConfigError& e) {
      what = e.what();
    }
    EXPECT_NE(what.find("\"" + other.trace_file + "\""), std::string::npos) << what;
    EXPECT_NE(what.find("another Runtime"), std::string::npos) << what;
    // Not a regular file: any number of runtimes may write it.
    Config null_cfg = cfg;
    null_cfg.trace_file = "/dev/null";
    Runtime a(null_cfg), b(null_cfg);
    h.join();
  }
  // The refused runtime did not truncate or write the first one's trace.
  const TraceSummary s = quanta::test::check_trace_file(path);
  EXPECT_TRUE(s.parsed);
  EXPECT_GE(s.slices, 1u);  // the ULT's run
  // Free again once the first runtime has written it.
  {
    Runtime again(cfg);
  }
  quanta::test::check_trace_file(path);
  std::remove(path.c_str());
}

TEST(Trace, OffRecordsAndWritesNothing) {
  Config cfg = quanta::test::config(2);
  ASSERT_TRUE(cfg.trace_file.empty());
  Runtime rt(cfg);
  EXPECT_EQ(rt.impl().trace, nullptr);
  for (auto* w : quanta::test::workers_of(rt)) EXPECT_EQ(w->trace, nullptr);
  Ids ids;
  run_app(rt, ids);
  EXPECT_EQ(rt.impl().trace, nullptr);
}

using quanta::test::EnvVar;

std::string config_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const quanta::ConfigError& e) {
    return e.what();
  }
  return "<no ConfigError>";
}

TEST(TraceConfig, FromEnvReadsTheFileAndTheBufferSize) {
  EXPECT_TRUE(Config::from_env().trace_file.empty());
  EXPECT_EQ(Config::from_env().trace_buffer, std::size_t{1} << 20);
  EnvVar file("QUANTA_TRACE", "out.json");
  EnvVar size("QUANTA_TRACE_BUFFER", "4K");
  const Config c = Config::from_env();
  EXPECT_EQ(c.trace_file, "out.json");
  EXPECT_EQ(c.trace_buffer, 4096u);
}

TEST(TraceConfig, BadBufferSizesAreRejected) {
  {
    EnvVar v("QUANTA_TRACE_BUFFER", "12x");
    const std::string e = config_error_of([] { Config::from_env(); });
    EXPECT_NE(e.find("QUANTA_TRACE_BUFFER=\"12x\""), std::string::npos) << e;
    EXPECT_NE(e.find("[64, 67108864]"), std::string::npos) << e;
  }
  {
    EnvVar v("QUANTA_TRACE_BUFFER", "8");
    EXPECT_NE(config_error_of([] { Config::from_env(); }).find("QUANTA_TRACE_BUFFER"),
              std::string::npos);
  }
  Config c;
  c.trace_buffer = 0;
  const std::string e = config_error_of([&] { c.validate(); });
  EXPECT_NE(e.find("Config::trace_buffer = 0 events"), std::string::npos) << e;
}

}  // namespace
