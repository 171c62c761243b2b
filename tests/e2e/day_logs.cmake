# `swarmdeck logs --run RUN [--follow]` (issue 16): tests/e2e/day_logs.py against a real daemon.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET swarmdeck AND TARGET swarmdeck-sandbox AND TARGET swarmdeck-runner)
  add_test(NAME day_logs_e2e_follow_run
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/day_logs.py -v Logs.test_follow_run)
  set_tests_properties(day_logs_e2e_follow_run PROPERTIES TIMEOUT 600 LABELS "e2e;daemon"
    ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR};SWARMDECK_E2E_STRATEGIES=${CMAKE_BINARY_DIR}/e2e-strategies;PYTHONDONTWRITEBYTECODE=1")
endif()
