list(APPEND QUANTA_SOURCES
  runtime/sched/round_robin.cpp
  runtime/sched/work_stealing.cpp)
