# bench-console: widget frame cost with 1000 rows (headless), the learning
# panes' snapshot cost at 100k trajectories, and an idle console's CPU and
# terminal bytes over 10 s (docs/benchmarks/console.md).
# Not a CTest test: run `cmake --build BUILD --target bench-console`.
add_executable(bench-console-frames ${CMAKE_SOURCE_DIR}/tests/bench/console_bench.c)
target_link_libraries(bench-console-frames PRIVATE swarmdeck_widgets)
add_executable(bench-console-learn ${CMAKE_SOURCE_DIR}/tests/bench/console_learn_bench.c)
target_link_libraries(bench-console-learn PRIVATE swarmdeck_tui)
target_include_directories(bench-console-learn PRIVATE ${CMAKE_SOURCE_DIR}/tui)
add_custom_target(bench-console
  COMMAND bench-console-frames 500
  COMMAND bench-console-learn 100000
  COMMAND sh ${CMAKE_SOURCE_DIR}/tests/bench/console_idle.sh ${CMAKE_BINARY_DIR} 10
  DEPENDS bench-console-frames bench-console-learn swarmdeck
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  USES_TERMINAL)
