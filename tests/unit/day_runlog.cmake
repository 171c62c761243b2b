# Several deployments' output as one stream of lines in written order (engine/store/runlog.c,
# issue 16: logs --run and the console's L), on a temporary store.
add_executable(day_runlog_test ${CMAKE_CURRENT_LIST_DIR}/day_runlog_test.c)
target_link_libraries(day_runlog_test PRIVATE swarmdeck_engine)
foreach(t merge run_trajs hold)
  add_test(NAME day_runlog_${t} COMMAND day_runlog_test ${t})
  set_tests_properties(day_runlog_${t} PROPERTIES LABELS "sanitize" TIMEOUT 60)
endforeach()
