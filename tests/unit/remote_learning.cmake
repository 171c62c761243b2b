# The console keeps a daemon's learning snapshot (tui/remote.h remote_learning): listed on
# connect, kept by "learning" events, against a real server in the test's process. Labelled
# tsan (the remote's threads and the pump) and sanitize.
add_executable(remote_learning_test ${CMAKE_CURRENT_LIST_DIR}/remote_learning_test.c)
target_link_libraries(remote_learning_test PRIVATE swarmdeck_tui)
foreach(t keep summary)
  add_test(NAME remote_learning_${t} COMMAND remote_learning_test ${t}
           $<TARGET_FILE:swarmdeck-runner> $<TARGET_FILE:swarmdeck-sandbox>)
  set_tests_properties(remote_learning_${t} PROPERTIES LABELS "sanitize;tsan" TIMEOUT 120)
endforeach()
