# Pausing a deployment (issue 16): coord_pause through a fake provider, with and without a
# pause op (day_pause_test CASE RUNNER HELPER); threads and locks, so labelled tsan too.
add_executable(day_pause_test ${CMAKE_CURRENT_LIST_DIR}/day_pause_test.c)
target_link_libraries(day_pause_test PRIVATE swarmdeck_engine)
foreach(t pause_resume pause_refused)
  add_test(NAME day_pause_${t} COMMAND day_pause_test ${t} $<TARGET_FILE:swarmdeck-runner>
           $<TARGET_FILE:swarmdeck-sandbox>)
  set_tests_properties(day_pause_${t} PROPERTIES LABELS "sanitize;tsan" TIMEOUT 120)
endforeach()
