# The deploy dialog's symbol completion (issue 16): tui/complete.c headless, one CTest entry
# per case; the bundled case reads the source tree's data directory (SWARMDECK_DATA).
add_executable(day_complete_test ${CMAKE_CURRENT_LIST_DIR}/day_complete_test.c)
target_link_libraries(day_complete_test PRIVATE swarmdeck_tui)
foreach(t complete check_and_hint bundled header_paused)
  add_test(NAME day_complete_${t} COMMAND day_complete_test ${t})
  set_tests_properties(day_complete_${t} PROPERTIES LABELS "sanitize;console" TIMEOUT 60
    ENVIRONMENT "SWARMDECK_DATA=${CMAKE_SOURCE_DIR}/data")
endforeach()
