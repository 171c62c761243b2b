# bench-store: the store's throughput, commit latency and stats query
# (docs/benchmarks/store.md). Not a CTest test: run ./bench-store by hand.
# (Same block in tests/unit/store.cmake: whichever is included first defines it.)
# util.c's sd_err_prefix trips GCC's -Wformat-truncation at -O2; not ours to edit.
if(NOT TARGET swarmdeck_store_objs)
  add_library(swarmdeck_store_objs OBJECT
    ${CMAKE_SOURCE_DIR}/engine/store.c
    ${CMAKE_SOURCE_DIR}/engine/store_schema.c
    ${CMAKE_SOURCE_DIR}/engine/util.c)
  target_include_directories(swarmdeck_store_objs PUBLIC ${CMAKE_SOURCE_DIR}/engine)
  target_link_libraries(swarmdeck_store_objs PUBLIC PkgConfig::SQLITE Threads::Threads)
  set_source_files_properties(${CMAKE_SOURCE_DIR}/engine/util.c TARGET_DIRECTORY swarmdeck_store_objs
    PROPERTIES COMPILE_OPTIONS "-Wno-error=format-truncation")
endif()
add_executable(bench-store ${CMAKE_SOURCE_DIR}/tests/bench/store_bench.c)
target_link_libraries(bench-store PRIVATE swarmdeck_store_objs m)
