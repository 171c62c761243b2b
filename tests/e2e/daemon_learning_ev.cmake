# The daemon's learning snapshots: "learning" events (throttled, the last one always sent) and
# GET /v1/learning, with real deployments (daemon_learning_ev.py). Run with `ctest -L daemon`.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET swarmdeck AND TARGET swarmdeck-sandbox AND TARGET swarmdeck-runner)
  foreach(spec
      "daemon_learning_ev_basic|LearningEvents.test_learning_event_and_list"
      "daemon_learning_ev_burst|LearningEvents.test_burst_is_throttled_last_one_final")
    string(REPLACE "|" ";" parts "${spec}")
    list(GET parts 0 tname)
    list(GET parts 1 tsel)
    add_test(NAME ${tname}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/daemon_learning_ev.py -v ${tsel})
    set_tests_properties(${tname} PROPERTIES TIMEOUT 600 LABELS "e2e;daemon"
      ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR};SWARMDECK_E2E_STRATEGIES=${CMAKE_BINARY_DIR}/e2e-strategies;PYTHONDONTWRITEBYTECODE=1")
  endforeach()
endif()
