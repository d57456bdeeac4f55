// The --env form of a recommendation (Recommendation::env, tune::env_lines):
// lines that Config::from_env() reads back as the same values.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

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

}  // namespace
