# The daemon's run table (engine/serve/pump.c): a run reads as open until its end is committed,
# so `swarmdeck wait` never takes a run that just ended for an interrupted one.
add_executable(pump_test ${CMAKE_CURRENT_LIST_DIR}/pump_test.c)
target_link_libraries(pump_test PRIVATE swarmdeck_engine)
foreach(case open_until_recorded)
  add_test(NAME pump_${case} COMMAND pump_test ${case} $<TARGET_FILE:swarmdeck-runner>
           $<TARGET_FILE:swarmdeck-sandbox>)
  set_tests_properties(pump_${case} PROPERTIES LABELS "daemon;sanitize;tsan" TIMEOUT 120)
endforeach()
