# quanta — hwloc for the topology module. Included from the top-level
# CMakeLists.txt once the targets quanta and quanta_internal exist.
#
# Native builds require hwloc (Debian: libhwloc-dev): it is the machine
# topology loader and the source of synthetic topologies in tests. Cross
# builds have no hwloc for the target; there the sysfs reader
# (sysfs_loader.cpp) loads the machine and Topology::has_hwloc() is false.
if(NOT TARGET quanta OR NOT TARGET quanta_internal)
  message(FATAL_ERROR "quanta: include runtime/topology/topology.cmake after the targets "
                      "quanta and quanta_internal are defined")
endif()
if(CMAKE_CROSSCOMPILING)
  set(QUANTA_HAVE_HWLOC OFF)
  message(STATUS "quanta: cross build, topology from /sys (no hwloc)")
else()
  find_package(PkgConfig)
  if(PkgConfig_FOUND)
    pkg_check_modules(HWLOC IMPORTED_TARGET hwloc>=2.0)
  endif()
  if(NOT HWLOC_FOUND)
    message(FATAL_ERROR
      "quanta: hwloc 2.x not found through pkg-config (native builds need it for the "
      "machine topology); install libhwloc-dev and pkg-config (Debian), or set "
      "PKG_CONFIG_PATH to the directory holding hwloc.pc")
  endif()
  set(QUANTA_HAVE_HWLOC ON)
  message(STATUS "quanta: topology from hwloc ${HWLOC_VERSION}")
  target_sources(quanta PRIVATE ${PROJECT_SOURCE_DIR}/runtime/topology/hwloc_loader.cpp)
  # quanta is a static library by default, so its link dependencies travel
  # with it: the imported target inside this build, plain -lhwloc for
  # projects that use the installed package.
  target_link_libraries(quanta PRIVATE $<BUILD_INTERFACE:PkgConfig::HWLOC> $<INSTALL_INTERFACE:hwloc>)
  target_compile_definitions(quanta PRIVATE QUANTA_HAVE_HWLOC=1)
  # The project's own tests compile hwloc-only cases with it.
  target_compile_definitions(quanta_internal INTERFACE QUANTA_HAVE_HWLOC=1)
endif()
