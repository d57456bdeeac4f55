list(APPEND QUANTA_SOURCES
  runtime/stack/overflow.cpp
  runtime/stack/stack_pool.cpp)
