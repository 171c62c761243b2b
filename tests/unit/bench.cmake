# The benchmark's metrics, report writers, scenarios and queries (engine/bench/bench.c,
# report.c, scenario.c; engine/store/query_bench.c): one ctest per case of bench_test.c.
# Labelled "sanitize" (ASan+UBSan build too).
add_executable(bench_test ${CMAKE_CURRENT_LIST_DIR}/bench_test.c)
target_link_libraries(bench_test PRIVATE swarmdeck_engine)
foreach(case percentile_hand stats_hand outcomes aggregate thresholds compare recommend writers
             files plan_builtins plan_file plan_requests same_scenario queries)
  add_test(NAME bench_${case} COMMAND bench_test ${case})
  set_tests_properties(bench_${case} PROPERTIES LABELS "bench;sanitize")
endforeach()
