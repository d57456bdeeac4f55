list(APPEND QUANTA_SOURCES
  runtime/tune/calibrate.cpp
  runtime/tune/profile.cpp
  runtime/tune/recommend.cpp)
