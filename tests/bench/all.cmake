# bench-all: the programs of every benchmark in tests/bench. `make bench` builds it and runs
# tests/bench/bench_all.py, which runs each at a reasonable size and rewrites the tables of
# docs/benchmarks.md. CI runs the same driver at a tiny size (test benchmarks_tiny, label
# bench): it checks that the benchmarks build, run and print what the driver reads, never a time.
add_custom_target(bench-all
  DEPENDS bench-runner engine_bench engine_noop daemon_api_bench bench-store bench-learn
          bench-console-frames bench-console-learn swarmdeck swarmdeck-runner)
if(TARGET bench-sandbox)
  add_dependencies(bench-all bench-sandbox swarmdeck-sandbox)
endif()
# engine_bench and daemon_api_bench are not built by default: the fixture builds them first.
add_test(NAME benchmarks_tiny_build
  COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target bench-all)
set_tests_properties(benchmarks_tiny_build PROPERTIES LABELS bench FIXTURES_SETUP bench_all)
add_test(NAME benchmarks_tiny
  COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/bench_all.py --build ${CMAKE_BINARY_DIR}
          --source ${CMAKE_SOURCE_DIR} --tiny)
set_tests_properties(benchmarks_tiny PROPERTIES LABELS bench FIXTURES_REQUIRED bench_all
  TIMEOUT 600 RUN_SERIAL TRUE)
