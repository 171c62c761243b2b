# Runner (strategies/) tests: the engine in process (C) and the binary through its command line
# (python3, standard library only). All labelled "sanitize" so they also run under ASan+UBSan.
set(RUNNER_SPX ${SWARMDECK_SOURCE_DATA}/SPX.csv)
set(RUNNER_FIXTURES ${CMAKE_CURRENT_LIST_DIR}/../fixtures/runner)

add_executable(runner_test ${CMAKE_CURRENT_LIST_DIR}/runner_test.c)
target_link_libraries(runner_test PRIVATE runner_core)
add_test(NAME runner_unit COMMAND runner_test ${RUNNER_SPX})

find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND)
  add_test(NAME runner_cli
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/runner_cli.py
            $<TARGET_FILE:swarmdeck-runner> ${RUNNER_SPX} ${RUNNER_FIXTURES})
  add_test(NAME runner_reference
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/runner_reference.py
            $<TARGET_FILE:swarmdeck-runner> ${RUNNER_SPX})
  set_tests_properties(runner_cli runner_reference PROPERTIES LABELS sanitize)
endif()
set_tests_properties(runner_unit PROPERTIES LABELS sanitize)
if(Python3_FOUND AND NOT SWARMDECK_SANITIZED)
  add_test(NAME runner_static
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/runner_static.py
            $<TARGET_FILE:swarmdeck-runner>)
endif()
