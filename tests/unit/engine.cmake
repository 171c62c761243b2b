# Engine unit tests (event queue, log ring, validation, states).
add_executable(engine_test ${CMAKE_CURRENT_LIST_DIR}/engine_test.c)
target_link_libraries(engine_test PRIVATE swarmdeck_engine)
add_test(NAME engine_unit COMMAND engine_test $<TARGET_FILE:swarmdeck-runner>)
set_tests_properties(engine_unit PROPERTIES LABELS "sanitize")
