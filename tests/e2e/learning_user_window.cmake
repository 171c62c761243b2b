# A user strategy gets the walk-forward window as --from/--to and may ignore it, which is
# recorded (issue 15; tests/e2e/learning_user_window.py).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET swarmdeck AND TARGET swarmdeck-sandbox AND TARGET swarmdeck-runner)
  add_test(NAME learning_user_window COMMAND ${Python3_EXECUTABLE}
    ${CMAKE_SOURCE_DIR}/tests/e2e/learning_user_window.py ${CMAKE_BINARY_DIR})
  set_tests_properties(learning_user_window PROPERTIES TIMEOUT 300 LABELS "e2e"
    ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR};PYTHONDONTWRITEBYTECODE=1")
endif()
