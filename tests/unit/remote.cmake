# The console's view of a daemon (tui/remote.c) against a real server in the test's
# process: list+watch, output pulled into a local ring, run notices, reconnect after the
# server restarts, a flood followed by a window. Labelled tsan (three threads share the remote) and sanitize.
add_executable(remote_test ${CMAKE_CURRENT_LIST_DIR}/remote_test.c)
target_link_libraries(remote_test PRIVATE swarmdeck_tui)
foreach(t follow restart flood)
  add_test(NAME remote_${t} COMMAND remote_test ${t} $<TARGET_FILE:swarmdeck-runner>
           $<TARGET_FILE:swarmdeck-sandbox> ${CMAKE_BINARY_DIR}/e2e-strategies/probe-lines.json)
  set_tests_properties(remote_${t} PROPERTIES LABELS "sanitize;tsan" TIMEOUT 120)
endforeach()
