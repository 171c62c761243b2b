# The Learning pane of a console on several hosts (tui/panes.h pane_hosts_learning_fill):
# pure content checks, no terminal.
add_executable(panes_hosts_test ${CMAKE_CURRENT_LIST_DIR}/panes_hosts_test.c)
target_link_libraries(panes_hosts_test PRIVATE swarmdeck_tui)
target_include_directories(panes_hosts_test PRIVATE ${CMAKE_SOURCE_DIR}/tui)
foreach(t sections one_host)
  add_test(NAME panes_hosts_${t} COMMAND panes_hosts_test ${t})
  set_tests_properties(panes_hosts_${t} PROPERTIES LABELS "sanitize;tsan" TIMEOUT 60)
endforeach()
