# Pausing and resuming a deployment (issue 16): tests/e2e/day_pause.py against a real daemon
# and real sandboxes, one CTest entry per case, on the daemon cases' harness.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET swarmdeck AND TARGET swarmdeck-sandbox AND TARGET swarmdeck-runner)
  foreach(t pause_resume cancel_paused)
    add_test(NAME day_pause_e2e_${t}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/day_pause.py -v Pause.test_${t})
    set_tests_properties(day_pause_e2e_${t} PROPERTIES TIMEOUT 600 LABELS "e2e;daemon"
      ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR};SWARMDECK_E2E_STRATEGIES=${CMAKE_BINARY_DIR}/e2e-strategies;PYTHONDONTWRITEBYTECODE=1")
  endforeach()
endif()
