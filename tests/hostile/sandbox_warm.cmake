# A daemon's warm pool fills from its start (tests/hostile/sandbox_warm.py). Same environment as
# tests/hostile/sandbox.cmake (E2E_ENV, the hostile strategy), included before.
if(Python3_FOUND AND TARGET e2e-fixtures)
  add_test(NAME hostile_warm_daemon
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/sandbox_warm.py -v
                   Warm.test_daemon_warm)
  set_tests_properties(hostile_warm_daemon PROPERTIES TIMEOUT 300 LABELS "e2e;hostile"
    ENVIRONMENT "${E2E_ENV};SWARMDECK_HOSTILE_BIN=${HOSTILE_DIR}/hostile")
endif()
