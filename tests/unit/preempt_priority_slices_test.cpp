// Per-priority time slices: Config::priority_time_slices and
// QUANTA_PRIORITY_TIME_SLICES, their validation, and the monitor using the
// running ULT's own slice.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <vector>

#include "env_var.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using quanta::Config;
using quanta::ConfigError;

std::string env_error(const char* value) {
  quanta::test::EnvVar slices("QUANTA_PRIORITY_TIME_SLICES", value);
  std::string msg;
  try {
    (void)Config::from_env();
  } catch (const ConfigError& e) {
    msg = e.what();
  }
  return msg;
}

TEST(PrioritySlices, EnvironmentIsParsed) {
  quanta::test::EnvVar slices("QUANTA_PRIORITY_TIME_SLICES", "31:200,0:5000");
  const Config c = Config::from_env();
  ASSERT_EQ(c.priority_time_slices.size(), 2u);
  EXPECT_EQ(c.time_slice_for(31), 200us);
  EXPECT_EQ(c.time_slice_for(0), 5000us);
  EXPECT_EQ(c.time_slice_for(quanta::kDefaultPriority), c.time_slice);
}

TEST(PrioritySlices, BadEnvironmentNamesVariableAndValue) {
  for (const char* bad : {"31", "31:", ":200", "32:200", "-1:200", "5:99", "5:20000000", "5:2x",
                          "5:200,", "a:200"}) {
    const std::string msg = env_error(bad);
    EXPECT_NE(msg.find(std::string("QUANTA_PRIORITY_TIME_SLICES=\"") + bad + "\""),
              std::string::npos)
        << bad << " -> " << msg;
    EXPECT_NE(msg.find("priority:microseconds"), std::string::npos) << msg;
  }
}

TEST(PrioritySlices, ValidateNamesTheEntry) {
  Config c;
  c.priority_time_slices = {{3, 200us}, {40, 200us}};
  try {
    c.validate();
    FAIL() << "priority 40 accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("priority_time_slices[1].priority = 40"),
              std::string::npos)
        << e.what();
  }
  c.priority_time_slices = {{3, 200us}, {4, 50us}};
  EXPECT_THROW(c.validate(), ConfigError);
  c.priority_time_slices = {{3, 200us}, {3, 300us}};
  try {
    c.validate();
    FAIL() << "a priority listed twice accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("listed twice"), std::string::npos) << e.what();
  }
}

// With a 10 s default slice, spinners at a level with a 100 us slice still
// take turns many times over: the monitor uses the running ULT's slice.
TEST(PrioritySlices, ShortSliceLevelIsPreemptedUnderALongDefault) {
  Config c = quanta::test::preemptive(1, 10'000'000us);
  c.priority_time_slices = {{20, 100us}};
  quanta::Runtime rt(c);
  std::atomic<bool> stop{false};
  std::vector<std::atomic<std::uint64_t>> taken(2);
  std::vector<quanta::JoinHandle<void>> hs;
  for (int i = 0; i < 2; ++i) {
    hs.push_back(quanta::ThreadBuilder().priority(20).spawn(rt, [&, i] {
      while (!stop.load(std::memory_order_relaxed)) {
        quanta::test::burn(1000);
        taken[i].store(quanta::this_thread::preemption_counters().taken,
                       std::memory_order_relaxed);
      }
    }));
  }
  const bool turns =
      quanta::test::eventually([&] { return taken[0].load() >= 20 && taken[1].load() >= 20; });
  stop = true;
  for (auto& h : hs) h.join();
  EXPECT_TRUE(turns) << "preemptions taken: " << taken[0].load() << ", " << taken[1].load();
}

}  // namespace
