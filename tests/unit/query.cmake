# The store's named queries (engine/store/query*.c): one ctest per case of query_test.c,
# each on its own temporary store. Named store_query_* so `ctest -R store` runs them.
add_executable(query_test ${CMAKE_CURRENT_LIST_DIR}/query_test.c)
target_link_libraries(query_test PRIVATE sd_store)
foreach(case savepoint bars strategies traj learn_rows)
  add_test(NAME store_query_${case} COMMAND query_test ${case})
  set_tests_properties(store_query_${case} PROPERTIES LABELS "sanitize")
endforeach()
