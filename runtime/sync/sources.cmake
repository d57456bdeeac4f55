list(APPEND QUANTA_SOURCES
  runtime/sync/mutex.cpp
  runtime/sync/wait.cpp)
