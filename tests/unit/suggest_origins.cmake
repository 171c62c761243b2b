# A cold `suggest --json`'s origins from the covering index (engine/store/query_origins.h,
# issue 15): the same answer as store_fleet_origins, and no scan of the table.
add_executable(suggest_origins_test ${CMAKE_CURRENT_LIST_DIR}/suggest_origins_test.c)
target_include_directories(suggest_origins_test PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(suggest_origins_test PRIVATE swarmdeck_engine)
foreach(case same plan)
  add_test(NAME store_suggest_origins_${case} COMMAND suggest_origins_test ${case})
  set_tests_properties(store_suggest_origins_${case} PROPERTIES LABELS "sanitize")
endforeach()
