# The daemon's event log (engine/serve/evlog.c): resume with no gap and no duplicate.
add_executable(evlog_test ${CMAKE_CURRENT_LIST_DIR}/evlog_test.c)
target_link_libraries(evlog_test PRIVATE sd_serve)
foreach(case sequence timeout_close reconnects)
  add_test(NAME evlog_${case} COMMAND evlog_test ${case})
  set_tests_properties(evlog_${case} PROPERTIES LABELS "daemon;sanitize;tsan" TIMEOUT 120)
endforeach()
