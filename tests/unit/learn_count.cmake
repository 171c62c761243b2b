# The learning-row count kept by migration 7's triggers (store_learn_count, issue 15): exact through
# inserts, status changes and deletes, and after migrating a store that had rows.
add_executable(learn_count_test ${CMAKE_CURRENT_LIST_DIR}/learn_count_test.c)
target_include_directories(learn_count_test PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(learn_count_test PRIVATE swarmdeck_engine)
foreach(case triggers migrate)
  add_test(NAME store_learn_count_${case} COMMAND learn_count_test ${case})
  set_tests_properties(store_learn_count_${case} PROPERTIES LABELS "sanitize")
endforeach()
