# Several daemons in one console (tui/remote.h's SEVERAL HOSTS, tui/app_hosts.c): ids per
# host, the backoff, the header's health texts, and two real servers in the test's process
# (two remotes on one queue, one unreachable at start, one restarted). Labelled tsan (the
# remotes' threads) and sanitize.
add_executable(remote_hosts_test ${CMAKE_CURRENT_LIST_DIR}/remote_hosts_test.c)
target_link_libraries(remote_hosts_test PRIVATE swarmdeck_tui)
foreach(t ids backoff health app two unreachable keep)
  add_test(NAME remote_hosts_${t} COMMAND remote_hosts_test ${t} $<TARGET_FILE:swarmdeck-runner>
           $<TARGET_FILE:swarmdeck-sandbox>)
  set_tests_properties(remote_hosts_${t} PROPERTIES LABELS "sanitize;tsan" TIMEOUT 120)
endforeach()
