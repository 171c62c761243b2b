# Widget tests of the operator's-day console fixes (issue 16): headless
# snapshots (newterm on /dev/null), no terminal needed.
add_executable(test-widgets-ops ${CMAKE_SOURCE_DIR}/tests/unit/widgets_ops_test.c)
target_link_libraries(test-widgets-ops PRIVATE swarmdeck_tui swarmdeck_widgets)
foreach(t logview_protocol logview_filter launch_confirm suggestion_panel learning_labels
          patterns_by_reward)
  add_test(NAME widgets_ops_${t} COMMAND test-widgets-ops ${t})
  set_tests_properties(widgets_ops_${t} PROPERTIES LABELS "sanitize" TIMEOUT 60)
endforeach()
