# Taking over a dead process's E2B deployments and closing their runs (issue 18, reconnect;
# tests/unit/store_claim_test.c).
add_executable(store_claim_test ${CMAKE_CURRENT_LIST_DIR}/store_claim_test.c)
target_link_libraries(store_claim_test PRIVATE swarmdeck_engine)
foreach(case claim)
  add_test(NAME store_claim_${case} COMMAND store_claim_test ${case})
  set_tests_properties(store_claim_${case} PROPERTIES LABELS "sanitize;tsan" TIMEOUT 120)
endforeach()
