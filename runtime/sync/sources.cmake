list(APPEND QUANTA_SOURCES
  runtime/sync/barrier.cpp
  runtime/sync/channel.cpp
  runtime/sync/count.cpp
  runtime/sync/mutex.cpp
  runtime/sync/rwlock.cpp
  runtime/sync/semaphore.cpp
  runtime/sync/wait.cpp)
