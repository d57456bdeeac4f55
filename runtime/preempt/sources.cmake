list(APPEND QUANTA_SOURCES
  runtime/preempt/monitor.cpp
  runtime/preempt/preempt_api.cpp
  runtime/preempt/safe_points.cpp
  runtime/preempt/signal.cpp)
