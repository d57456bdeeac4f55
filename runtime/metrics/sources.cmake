list(APPEND QUANTA_SOURCES
  runtime/metrics/health.cpp
  runtime/metrics/metrics.cpp
  runtime/metrics/perf_counters.cpp
  runtime/metrics/registry.cpp
  runtime/metrics/schedtrace.cpp
  runtime/metrics/thread_metrics.cpp
  runtime/metrics/thread_profile.cpp)
