# Console panes and the learning snapshot worker (tui/panes.h, tui/learnsnap.h):
# pure content checks on a temporary store, no terminal. ASan+UBSan and
# ThreadSanitizer too (every case passes under both).
add_executable(test-console ${CMAKE_SOURCE_DIR}/tests/unit/console_test.c)
target_link_libraries(test-console PRIVATE swarmdeck_tui)
target_include_directories(test-console PRIVATE ${CMAKE_SOURCE_DIR}/tui)
foreach(t learning_pane patterns_pane worker worker_no_learning header fetch_history
          fetch_output fetch_supersede fetch_locked fetch_locked_long fetch_chain
          fetch_chain_readonly fetch_chain_coalesce fetch_chain_cost)
  add_test(NAME console_${t} COMMAND test-console ${t})
  set_tests_properties(console_${t} PROPERTIES LABELS "sanitize;tsan" TIMEOUT 60)
endforeach()
