# The topology module's sources common to every build; hwloc_loader.cpp is
# added by topology.cmake when hwloc is found.
list(APPEND QUANTA_SOURCES
  runtime/topology/sysfs_loader.cpp
  runtime/topology/topology.cpp)
