# The pool master's reusable cgroup slots (tests/hostile/sandbox_cgslot.py). Same environment as
# tests/hostile/sandbox.cmake (E2E_ENV, the hostile strategy), included before.
if(Python3_FOUND AND TARGET e2e-fixtures)
  foreach(t Slots.test_exact Slots.test_leftover Slots.test_exit_removes Slots.test_sweep
            Slots.test_knob_off
            EngineExit.test_engine_exit)
    string(REGEX REPLACE ".*\\.test_" "" short ${t})
    add_test(NAME hostile_cgslot_${short}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/sandbox_cgslot.py -v ${t})
    set_tests_properties(hostile_cgslot_${short} PROPERTIES TIMEOUT 300 LABELS "e2e;hostile"
      ENVIRONMENT "${E2E_ENV};SWARMDECK_HOSTILE_BIN=${HOSTILE_DIR}/hostile")
  endforeach()
endif()
