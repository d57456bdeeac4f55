list(APPEND QUANTA_SOURCES
  runtime/lockfree/lock_free_queue.cpp)
