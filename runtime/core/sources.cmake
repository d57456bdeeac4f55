list(APPEND QUANTA_SOURCES
  runtime/core/config.cpp
  runtime/core/placement.cpp
  runtime/core/runtime.cpp
  runtime/core/ult_local.cpp
  runtime/core/ult_ops.cpp
  runtime/core/worker.cpp
  runtime/core/worker_cpus.cpp)
