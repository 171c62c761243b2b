# A daemon killed mid-run and the next one re-adopting its E2B deployments (issue 18,
# reconnect), against the E2B double on 127.0.0.1 (tests/e2e/e2b_adopt_e2e.py).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET swarmdeck AND TARGET swarmdeck-sandbox AND TARGET swarmdeck-runner)
  add_test(NAME e2b_adopt
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/e2b_adopt_e2e.py -v Adopt)
  set_tests_properties(e2b_adopt PROPERTIES TIMEOUT 300 LABELS "e2e;e2b"
    ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR};PYTHONDONTWRITEBYTECODE=1")
endif()
