list(APPEND QUANTA_SOURCES
  runtime/pool/memory_pool.cpp
  runtime/pool/pool_class.cpp)
