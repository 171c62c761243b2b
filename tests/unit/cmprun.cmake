# Two runs compared (issue 16): tui/cmprun.c's summary and the compare overlay's lines, headless.
add_executable(cmprun_test ${CMAKE_CURRENT_LIST_DIR}/cmprun_test.c)
target_link_libraries(cmprun_test PRIVATE swarmdeck_tui)
foreach(t summary fill)
  add_test(NAME cmprun_${t} COMMAND cmprun_test ${t})
  set_tests_properties(cmprun_${t} PROPERTIES LABELS "sanitize;console" TIMEOUT 60)
endforeach()
