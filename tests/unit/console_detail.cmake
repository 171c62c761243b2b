# The console's reads of the operator's day (engine/store/query_console2.h) and
# the store reader's details slot (tui/fetch.h), on a temporary store. ASan+UBSan
# and ThreadSanitizer too (the reader is a thread).
add_executable(test-console-detail ${CMAKE_SOURCE_DIR}/tests/unit/console_detail_test.c)
target_link_libraries(test-console-detail PRIVATE swarmdeck_tui)
target_include_directories(test-console-detail PRIVATE ${CMAKE_SOURCE_DIR}/tui)
foreach(t detail maps save fetch_detail)
  add_test(NAME console_detail_${t} COMMAND test-console-detail ${t})
  set_tests_properties(console_detail_${t} PROPERTIES LABELS "sanitize;tsan" TIMEOUT 60)
endforeach()
