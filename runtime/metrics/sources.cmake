list(APPEND QUANTA_SOURCES
  runtime/metrics/metrics.cpp
  runtime/metrics/registry.cpp
  runtime/metrics/schedtrace.cpp)
