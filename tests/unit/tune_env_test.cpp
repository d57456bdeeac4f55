// The --env form of a recommendation (Recommendation::env, tune::env_lines)
// and of every other setting (tune::changed_env_lines): lines that
// Config::from_env() reads back as the same values.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include <quanta/tune.hpp>

#include "test_support.hpp"

namespace {

using quanta::Config;
using namespace std::chrono_literals;

// Applies "export NAME=VALUE" lines to the environment; unsets them when
// destroyed.
class ExportedLines {
 public:
  explicit ExportedLines(const std::string& text) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      const std::string prefix = "export ";
      EXPECT_EQ(line.rfind(prefix, 0), 0u) << line;
      const std::size_t eq = line.find('=');
      EXPECT_NE(eq, std::string::npos) << line;
      if (line.rfind(prefix, 0) != 0 || eq == std::string::npos) continue;
      const std::string name = line.substr(prefix.size(), eq - prefix.size());
      ::setenv(name.c_str(), line.substr(eq + 1).c_str(), 1);
      names_.push_back(name);
    }
  }
  ~ExportedLines() {
    for (const std::string& n : names_) ::unsetenv(n.c_str());
  }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
};

void expect_round_trip(const Config& c) {
  const std::string text = quanta::tune::env_lines(c);
  ExportedLines e(text);
  EXPECT_EQ(e.names(), (std::vector<std::string>{"QUANTA_WORKERS", "QUANTA_TIME_SLICE_US",
                                                  "QUANTA_STACK_SIZE", "QUANTA_SCHEDULER"}))
      << text;
  const Config back = Config::from_env();
  EXPECT_EQ(back.workers, c.workers) << text;
  EXPECT_EQ(back.time_slice, c.time_slice) << text;
  EXPECT_EQ(back.stack_size, c.stack_size) << text;
  EXPECT_EQ(back.scheduler, c.scheduler) << text;
}

TEST(TuneEnv, Format) {
  quanta::tune::Recommendation r;
  r.workers = 2;
  r.time_slice = 400us;
  r.stack_size = 64 * 1024;
  r.scheduler = quanta::SchedulerKind::WorkStealing;
  EXPECT_EQ(r.env(),
            "export QUANTA_WORKERS=2\n"
            "export QUANTA_TIME_SLICE_US=400\n"
            "export QUANTA_STACK_SIZE=64K\n"
            "export QUANTA_SCHEDULER=work_stealing\n");
}

TEST(TuneEnv, RoundTripsThroughFromEnv) {
  Config c;
  expect_round_trip(c);
  c.workers = 7;
  c.time_slice = 12345us;
  c.stack_size = 2u << 20;  // 2M
  c.scheduler = quanta::SchedulerKind::RoundRobin;
  expect_round_trip(c);
  c.stack_size = 16384 + 4096;  // 20K
  expect_round_trip(c);
  c.stack_size = 100000;  // plain bytes
  expect_round_trip(c);
  c.stack_size = quanta::kMaxStackSize;
  c.time_slice = quanta::kMaxTimeSlice;
  c.workers = quanta::kMaxWorkers;
  expect_round_trip(c);
}

TEST(TuneEnv, RecommendationRoundTrips) {
  quanta::tune::Calibration cal;
  cal.preempt_ns = 3333;
  cal.signal_frame_bytes = 3000;
  const auto r = quanta::tune::recommend(cal, quanta::topology());
  ExportedLines e(r.env());
  const Config back = Config::from_env();
  EXPECT_EQ(back.workers, r.workers);
  EXPECT_EQ(back.time_slice, r.time_slice);
  EXPECT_EQ(back.stack_size, r.stack_size);
  EXPECT_EQ(back.scheduler, r.scheduler);
}

// Every field from_env() reads, compared one by one (Config has no ==).
void expect_same_settings(const Config& a, const Config& b, const std::string& text) {
  EXPECT_EQ(a.workers, b.workers) << text;
  EXPECT_EQ(a.scheduler, b.scheduler) << text;
  EXPECT_EQ(a.time_slice, b.time_slice) << text;
  ASSERT_EQ(a.priority_time_slices.size(), b.priority_time_slices.size()) << text;
  for (std::size_t i = 0; i < a.priority_time_slices.size(); ++i) {
    EXPECT_EQ(a.priority_time_slices[i].priority, b.priority_time_slices[i].priority) << text;
    EXPECT_EQ(a.priority_time_slices[i].slice, b.priority_time_slices[i].slice) << text;
  }
  EXPECT_EQ(a.preempt, b.preempt) << text;
  EXPECT_EQ(a.stack_size, b.stack_size) << text;
  EXPECT_EQ(a.stack_guard, b.stack_guard) << text;
  EXPECT_EQ(a.switch_target, b.switch_target) << text;
  EXPECT_EQ(a.schedtrace, b.schedtrace) << text;
  EXPECT_EQ(a.metrics, b.metrics) << text;
  EXPECT_EQ(a.thread_metrics, b.thread_metrics) << text;
  EXPECT_EQ(a.trace_file, b.trace_file) << text;
  EXPECT_EQ(a.trace_buffer, b.trace_buffer) << text;
}

TEST(TuneEnv, ChangedLinesAreEmptyForTheDefaults) {
  EXPECT_EQ(quanta::tune::changed_env_lines(Config{}), "");
}

TEST(TuneEnv, ChangedLinesNameEverySettingThatIsNotTheDefault) {
  Config c;
  c.priority_time_slices = {{31, 200us}, {0, 5000us}};
  c.preempt = false;
  c.stack_guard = quanta::StackGuard::Canary;
  c.switch_target = 250ns;
  c.schedtrace = 500ms;
  c.metrics = false;
  c.thread_metrics = true;
  c.trace_file = "traces/run.json";
  c.trace_buffer = 4096;
  const std::string text = quanta::tune::changed_env_lines(c);
  EXPECT_EQ(text,
            "export QUANTA_PRIORITY_TIME_SLICES=31:200,0:5000\n"
            "export QUANTA_PREEMPT=off\n"
            "export QUANTA_STACK_GUARD=canary\n"
            "export QUANTA_SWITCH_TARGET_NS=250\n"
            "export QUANTA_SCHEDTRACE=500\n"
            "export QUANTA_METRICS=off\n"
            "export QUANTA_THREAD_METRICS=on\n"
            "export QUANTA_TRACE=traces/run.json\n"
            "export QUANTA_TRACE_BUFFER=4K\n");
  const std::string all = quanta::tune::env_lines(c) + text;
  ExportedLines e(all);
  expect_same_settings(Config::from_env(), c, all);
}

TEST(TuneEnv, AProfileComesBackAsTheValuesItSet) {
  for (const auto p : {quanta::Profile::Latency, quanta::Profile::Throughput,
                       quanta::Profile::MemoryConstrained, quanta::Profile::CpuConstrained}) {
    const Config c = Config::profile(p);
    const std::string all = quanta::tune::env_lines(c) + quanta::tune::changed_env_lines(c);
    ExportedLines e(all);
    expect_same_settings(Config::from_env(), c, all);
  }
}

TEST(TuneEnv, ShellQuoteLeavesPlainWordsAndQuotesTheRest) {
  using quanta::tune::shell_quote;
  EXPECT_EQ(shell_quote("traces/run-1.json"), "traces/run-1.json");
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote("$HOME/x"), "'$HOME/x'");
}

}  // namespace
