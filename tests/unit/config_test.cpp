// Config, QUANTA_* variables and spawn options: invalid values are rejected
// with a ConfigError that names the variable or field, the value and the
// accepted range.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "env_var.hpp"
#include "test_support.hpp"

namespace {

using quanta::Config;
using quanta::ConfigError;

using quanta::test::EnvVar;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no ConfigError>";
}

TEST(Config, DefaultsAreValid) {
  Config c;
  EXPECT_NO_THROW(c.validate());
  EXPECT_EQ(c.stack_size, quanta::kDefaultStackSize);
  EXPECT_EQ(c.scheduler, quanta::SchedulerKind::WorkStealing);
}

TEST(Config, FromEnvReadsEveryVariable) {
  EnvVar w("QUANTA_WORKERS", "3");
  EnvVar s("QUANTA_SCHEDULER", "work_stealing");
  EnvVar t("QUANTA_TIME_SLICE_US", "250");
  EnvVar p("QUANTA_PREEMPT", "off");
  EnvVar z("QUANTA_STACK_SIZE", "128K");
  EnvVar g("QUANTA_STACK_GUARD", "canary");
  EnvVar m("QUANTA_METRICS", "off");
  EnvVar u("QUANTA_THREAD_METRICS", "on");
  Config c = Config::from_env();
  EXPECT_FALSE(c.metrics);
  EXPECT_TRUE(c.thread_metrics);
  EXPECT_EQ(c.workers, 3u);
  EXPECT_EQ(c.scheduler, quanta::SchedulerKind::WorkStealing);
  EXPECT_EQ(c.time_slice.count(), 250);
  EXPECT_FALSE(c.preempt);
  EXPECT_EQ(c.stack_size, 128u * 1024);
  EXPECT_EQ(c.stack_guard, quanta::StackGuard::Canary);
}

struct BadEnv {
  const char* var;
  const char* value;
  const char* expect_in_message;
};

class ConfigBadEnv : public ::testing::TestWithParam<BadEnv> {};

TEST_P(ConfigBadEnv, NamesVariableValueAndRange) {
  const BadEnv& b = GetParam();
  EnvVar e(b.var, b.value);
  std::string msg = error_of([] { (void)Config::from_env(); });
  EXPECT_NE(msg.find(b.var), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::string("\"") + b.value + "\""), std::string::npos) << msg;
  EXPECT_NE(msg.find(b.expect_in_message), std::string::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(
    All, ConfigBadEnv,
    ::testing::Values(BadEnv{"QUANTA_WORKERS", "-1", "[0, 1024]"},
                      BadEnv{"QUANTA_WORKERS", "5000", "[0, 1024]"},
                      BadEnv{"QUANTA_WORKERS", "two", "[0, 1024]"},
                      BadEnv{"QUANTA_SCHEDULER", "fifo", "work_stealing, round_robin"},
                      BadEnv{"QUANTA_TIME_SLICE_US", "99", "[100, 10000000]"},
                      BadEnv{"QUANTA_TIME_SLICE_US", "10000001", "[100, 10000000]"},
                      BadEnv{"QUANTA_PREEMPT", "maybe", "on, off"},
                      BadEnv{"QUANTA_METRICS", "yes", "on, off"},
                      BadEnv{"QUANTA_THREAD_METRICS", "2", "on, off"},
                      BadEnv{"QUANTA_STACK_SIZE", "4096", "[16384, 1073741824]"},
                      BadEnv{"QUANTA_STACK_SIZE", "2G", "[16384, 1073741824]"},
                      BadEnv{"QUANTA_STACK_SIZE", "64Q", "K/M/G"},
                      BadEnv{"QUANTA_STACK_GUARD", "none", "auto, page, canary"}),
    [](const ::testing::TestParamInfo<BadEnv>& info) {
      return std::string(info.param.var + 7) + "_" + std::to_string(info.index);
    });

TEST(Config, EmptyVariableKeepsDefault) {
  EnvVar e("QUANTA_WORKERS", "");
  EXPECT_EQ(Config::from_env().workers, 0u);
}

TEST(Config, ValidateNamesTheField) {
  Config c;
  c.stack_size = 1000;
  EXPECT_NE(error_of([&] { c.validate(); }).find("Config::stack_size = 1000"), std::string::npos);
  c = Config{};
  c.time_slice = std::chrono::microseconds(50);
  EXPECT_NE(error_of([&] { c.validate(); }).find("Config::time_slice = 50 us"), std::string::npos);
  c = Config{};
  c.workers = 100000;
  EXPECT_NE(error_of([&] { c.validate(); }).find("Config::workers = 100000"), std::string::npos);
}

TEST(Config, RuntimeRejectsInvalidConfig) {
  Config c;
  c.stack_size = 1;
  EXPECT_THROW(quanta::Runtime rt(c), ConfigError);
}

TEST(Config, RuntimeResolvesWorkerCount) {
  quanta::Runtime rt(quanta::test::config(0));
  EXPECT_GE(rt.worker_count(), 1u);
  EXPECT_EQ(rt.config().workers, rt.worker_count());
}

TEST(Config, SpawnRejectsBadPriorityAndStackSize) {
  quanta::Runtime rt(quanta::test::config(1));
  std::string m = error_of([&] { quanta::ThreadBuilder().priority(32).spawn(rt, [] {}); });
  EXPECT_NE(m.find("priority 32"), std::string::npos) << m;
  EXPECT_NE(m.find("[0, 31]"), std::string::npos) << m;
  m = error_of([&] { quanta::ThreadBuilder().priority(-1).spawn(rt, [] {}); });
  EXPECT_NE(m.find("priority -1"), std::string::npos) << m;
  m = error_of([&] { quanta::ThreadBuilder().stack_size(8192).spawn(rt, [] {}); });
  EXPECT_NE(m.find("stack_size 8192"), std::string::npos) << m;
  EXPECT_NE(m.find("[16384, 1073741824]"), std::string::npos) << m;
  // The runtime still works afterwards.
  EXPECT_EQ(rt.spawn([] { return 5; }).join(), 5);
}

TEST(Config, FunctionObjectTooLargeForStackIsAnError) {
  quanta::Runtime rt(quanta::test::config(1));
  struct Big {
    char bytes[20000];
  } big{};
  std::string m = error_of([&] {
    quanta::ThreadBuilder().stack_size(16384).spawn(rt, [big] { return big.bytes[0]; });
  });
  EXPECT_NE(m.find("function object"), std::string::npos) << m;
}

}  // namespace
