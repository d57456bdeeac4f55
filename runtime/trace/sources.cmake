list(APPEND QUANTA_SOURCES
  runtime/trace/buffer.cpp
  runtime/trace/chrome_json.cpp
  runtime/trace/hooks.cpp
  runtime/trace/session.cpp)
