// Profiles: the fields each one sets, QUANTA_PROFILE, and its precedence:
// defaults < QUANTA_PROFILE < the individual QUANTA_* variables.
#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <string>

#include "env_var.hpp"
#include "test_support.hpp"

namespace {

using quanta::Config;
using quanta::ConfigError;
using quanta::Profile;
using quanta::SchedulerKind;
using namespace std::chrono_literals;

using quanta::test::EnvVar;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no ConfigError>";
}

unsigned allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

constexpr Profile kAll[] = {Profile::Latency, Profile::Throughput, Profile::MemoryConstrained,
                            Profile::CpuConstrained};

TEST(TuneProfile, EveryProfileIsValidAndRuns) {
  for (Profile p : kAll) {
    SCOPED_TRACE(std::string(quanta::tune::profile_name(p)));
    Config c = Config::profile(p);
    EXPECT_NO_THROW(c.validate());
    c.workers = 1;  // keep the run small; the rest as the profile says
    quanta::Runtime rt(c);
    EXPECT_EQ(rt.spawn([] { return 7; }).join(), 7);
  }
}

TEST(TuneProfile, Values) {
  const Config l = Config::profile(Profile::Latency);
  EXPECT_EQ(l.time_slice, 200us);
  EXPECT_TRUE(l.preempt);
  EXPECT_EQ(l.scheduler, SchedulerKind::WorkStealing);
  EXPECT_EQ(l.workers, 0u);
  EXPECT_EQ(l.stack_size, quanta::kDefaultStackSize);

  const Config t = Config::profile(Profile::Throughput);
  EXPECT_EQ(t.time_slice, 10000us);
  EXPECT_TRUE(t.preempt);
  EXPECT_EQ(t.scheduler, SchedulerKind::WorkStealing);
  EXPECT_EQ(t.workers, 0u);

  const Config m = Config::profile(Profile::MemoryConstrained);
  EXPECT_EQ(m.stack_size, quanta::kMinStackSize);
  EXPECT_EQ(m.stack_guard, quanta::StackGuard::Auto);
  EXPECT_EQ(m.scheduler, SchedulerKind::WorkStealing);
  EXPECT_EQ(m.time_slice, Config{}.time_slice);

  const Config c = Config::profile(Profile::CpuConstrained);
  EXPECT_EQ(c.workers, std::max(1u, allowed_cpus() / 2));
  EXPECT_EQ(c.time_slice, 10000us);
  EXPECT_EQ(c.scheduler, SchedulerKind::RoundRobin);
  EXPECT_TRUE(c.preempt);
}

TEST(TuneProfile, NotAProfileIsAConfigError) {
  EXPECT_EQ(error_of([] { Config::profile(static_cast<Profile>(9)); }),
            "quanta: Config::profile(9): not a Profile; expected Latency, Throughput, "
            "MemoryConstrained or CpuConstrained");
}

TEST(TuneProfile, NamesRoundTrip) {
  for (Profile p : kAll) {
    const std::string_view n = quanta::tune::profile_name(p);
    EXPECT_FALSE(n.empty());
    EXPECT_EQ(quanta::tune::profile_from_name(n), p);
  }
  EXPECT_EQ(quanta::tune::profile_name(Profile::MemoryConstrained), "memory_constrained");
  EXPECT_FALSE(quanta::tune::profile_from_name("Latency").has_value());
  EXPECT_TRUE(quanta::tune::profile_name(static_cast<Profile>(9)).empty());
}

TEST(TuneProfile, FromEnvAppliesTheProfile) {
  for (Profile p : kAll) {
    const std::string name(quanta::tune::profile_name(p));
    SCOPED_TRACE(name);
    EnvVar e("QUANTA_PROFILE", name.c_str());
    const Config got = Config::from_env();
    const Config want = Config::profile(p);
    EXPECT_EQ(got.workers, want.workers);
    EXPECT_EQ(got.time_slice, want.time_slice);
    EXPECT_EQ(got.scheduler, want.scheduler);
    EXPECT_EQ(got.preempt, want.preempt);
    EXPECT_EQ(got.stack_size, want.stack_size);
    EXPECT_EQ(got.stack_guard, want.stack_guard);
  }
}

TEST(TuneProfile, ExplicitVariablesOverrideTheProfile) {
  EnvVar p("QUANTA_PROFILE", "throughput");
  EnvVar t("QUANTA_TIME_SLICE_US", "300");
  EnvVar s("QUANTA_SCHEDULER", "round_robin");
  const Config c = Config::from_env();
  EXPECT_EQ(c.time_slice, 300us);                       // the variable, not 10 ms
  EXPECT_EQ(c.scheduler, SchedulerKind::RoundRobin);    // the variable
  EXPECT_TRUE(c.preempt);                               // the profile (= default)
  EXPECT_EQ(c.workers, 0u);                             // the profile
}

TEST(TuneProfile, VariablesOverrideWhicheverOrderTheyAreSet) {
  EnvVar z("QUANTA_STACK_SIZE", "32K");
  EnvVar p("QUANTA_PROFILE", "memory_constrained");
  EXPECT_EQ(Config::from_env().stack_size, 32u * 1024);
}

TEST(TuneProfile, EmptyProfileKeepsTheDefaults) {
  EnvVar p("QUANTA_PROFILE", "");
  const Config c = Config::from_env();
  EXPECT_EQ(c.time_slice, Config{}.time_slice);
  EXPECT_EQ(c.stack_size, Config{}.stack_size);
}

TEST(TuneProfile, BadProfileNamesTheValueAndTheAcceptedOnes) {
  for (const char* bad : {"fast", "Latency", "latency ", "memory-constrained"}) {
    EnvVar p("QUANTA_PROFILE", bad);
    EXPECT_EQ(error_of([] { Config::from_env(); }),
              std::string("quanta: QUANTA_PROFILE=\"") + bad +
                  "\" is invalid; expected one of: latency, throughput, memory_constrained, "
                  "cpu_constrained");
  }
}

}  // namespace
