# The pool master (zygote) and the pool sized by demand (tests/hostile/sandbox_master.py). Same
# environment as tests/hostile/sandbox.cmake (E2E_ENV, the hostile strategy), included before.
if(Python3_FOUND AND TARGET e2e-fixtures)
  foreach(t Master.test_member Master.test_bad_request Master.test_lifeline
            Demand.test_one_agent Demand.test_pool_off Demand.test_swarm)
    string(REGEX REPLACE ".*\\.test_" "" short ${t})
    add_test(NAME hostile_master_${short}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/sandbox_master.py -v ${t})
    set_tests_properties(hostile_master_${short} PROPERTIES TIMEOUT 300 LABELS "e2e;hostile"
      ENVIRONMENT "${E2E_ENV};SWARMDECK_HOSTILE_BIN=${HOSTILE_DIR}/hostile")
  endforeach()
endif()
