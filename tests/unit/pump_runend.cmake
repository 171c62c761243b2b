# A run's end committed with its last deployment (engine/serve/pump.c, coord_on_final), and
# the order the daemon promises on every path: run row before its deployments' rows, run end
# committed before the "run" event and the --on-finish hook, the event after every end.
add_executable(pump_runend_test ${CMAKE_CURRENT_LIST_DIR}/pump_runend_test.c)
target_link_libraries(pump_runend_test PRIVATE swarmdeck_engine)
foreach(case succeeded failed cancelled_queued store_settled)
  add_test(NAME pump_runend_${case} COMMAND pump_runend_test ${case}
           $<TARGET_FILE:swarmdeck-runner> $<TARGET_FILE:swarmdeck-sandbox>)
  set_tests_properties(pump_runend_${case} PROPERTIES LABELS "daemon;sanitize;tsan" TIMEOUT 120)
endforeach()
