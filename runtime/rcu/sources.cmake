list(APPEND QUANTA_SOURCES
  runtime/rcu/rcu.cpp)
