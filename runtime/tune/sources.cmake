list(APPEND QUANTA_SOURCES
  runtime/tune/calibrate.cpp
  runtime/tune/env_lines.cpp
  runtime/tune/profile.cpp
  runtime/tune/recommend.cpp)
