# Engine benchmark (not a test): `cmake --build build --target bench-engine && ./build/engine_bench ...`
add_executable(engine_noop ${CMAKE_CURRENT_LIST_DIR}/engine_noop.c)
if(NOT SWARMDECK_SANITIZED)
  target_link_options(engine_noop PRIVATE -static)
endif()
add_executable(engine_bench EXCLUDE_FROM_ALL ${CMAKE_CURRENT_LIST_DIR}/engine_bench.c)
target_link_libraries(engine_bench PRIVATE swarmdeck_engine)
add_custom_target(bench-engine DEPENDS engine_bench engine_noop swarmdeck-runner swarmdeck-sandbox)
# The daemon's API against the same coordinator driven directly (docs/benchmarks/daemon.md).
add_executable(daemon_api_bench EXCLUDE_FROM_ALL ${CMAKE_CURRENT_LIST_DIR}/daemon_api_bench.c)
target_link_libraries(daemon_api_bench PRIVATE swarmdeck_engine)
add_dependencies(bench-engine daemon_api_bench)
