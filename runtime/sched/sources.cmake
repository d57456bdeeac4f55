list(APPEND QUANTA_SOURCES
  runtime/sched/round_robin.cpp)
