list(APPEND QUANTA_SOURCES
  runtime/stack/dedicated_stack.cpp
  runtime/stack/overflow.cpp
  runtime/stack/stack_directory.cpp
  runtime/stack/stack_pool.cpp)
