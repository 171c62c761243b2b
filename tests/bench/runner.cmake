# Runner benchmark (docs/benchmarks/runner.md): strategy computation in process, plus the whole
# `swarmdeck-runner run` process for context. Run it with:
#   ./bench-runner ../data/SPX.csv ./swarmdeck-runner
# The ctest entry is a smoke run (few repetitions) so the benchmark keeps building and working.
add_executable(bench-runner ${CMAKE_CURRENT_LIST_DIR}/runner_bench.c)
target_link_libraries(bench-runner PRIVATE runner_core)
add_test(NAME runner_bench_smoke
  COMMAND bench-runner ${SWARMDECK_SOURCE_DATA}/SPX.csv $<TARGET_FILE:swarmdeck-runner> 10)
set_tests_properties(runner_bench_smoke PROPERTIES LABELS bench)
