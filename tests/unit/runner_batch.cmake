# The runner's batched stdout (strategies/protocol.c): few writes into a pipe, still live.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND)
  add_test(NAME runner_batch
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/runner_batch.py
            $<TARGET_FILE:swarmdeck-runner> ${SWARMDECK_SOURCE_DATA}/SPX.csv)
  set_tests_properties(runner_batch PROPERTIES LABELS sanitize)
endif()
