# `patterns --json`'s origins over every strategy from the covering index
# (engine/store/query_origins.h, issue 15): the same answer as store_fleet_origins, no table scan.
add_executable(patterns_origins_test ${CMAKE_CURRENT_LIST_DIR}/patterns_origins_test.c)
target_include_directories(patterns_origins_test PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(patterns_origins_test PRIVATE swarmdeck_engine)
foreach(case all plan)
  add_test(NAME store_patterns_origins_${case} COMMAND patterns_origins_test ${case})
  set_tests_properties(store_patterns_origins_${case} PROPERTIES LABELS "sanitize")
endforeach()
