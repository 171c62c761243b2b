# Coordinator unit tests: the queue, retries, breakers, failover and cancel
# driven through a fake provider (no sandboxes). One CTest entry per case
# (coord_test CASE RUNNER HELPER); labelled tsan too, since the coordinator
# is threads and locks.
add_executable(coord_test ${CMAKE_CURRENT_LIST_DIR}/coord_test.c)
target_link_libraries(coord_test PRIVATE swarmdeck_engine)
foreach(t deploy_five retry retry_gives_up no_retry_after_output strategy_failure backoff_cancel
          breaker failover cancel_queued cancel_creating cancel_starting cancel_running
          cancel_finishing cancel_unstarted assert_locked)
  add_test(NAME coord_${t} COMMAND coord_test ${t} $<TARGET_FILE:swarmdeck-runner>
           $<TARGET_FILE:swarmdeck-sandbox>)
  set_tests_properties(coord_${t} PROPERTIES LABELS "sanitize;tsan" TIMEOUT 120)
endforeach()
