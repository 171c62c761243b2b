# The warm pool of sandbox helpers (tests/hostile/sandbox_pool.py): the helper's --pool mode
# driven directly, and the provider's pool through `swarmdeck deploy`. Same environment as
# tests/hostile/sandbox.cmake (E2E_ENV, the hostile strategy), which is included before this.
if(Python3_FOUND AND TARGET e2e-fixtures)
  foreach(t PoolHelper.test_helper_job PoolHelper.test_helper_unused
            PoolHelper.test_helper_lifeline PoolHelper.test_helper_bad_job
            PoolHelper.test_helper_no_crosstalk Pool.test_used
            Pool.test_off Pool.test_bad_env Pool.test_once Pool.test_engine_killed
            Pool.test_shared_data)
    string(REGEX REPLACE ".*\\.test_" "" short ${t})
    add_test(NAME hostile_pool_${short}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/sandbox_pool.py -v ${t})
    set_tests_properties(hostile_pool_${short} PROPERTIES TIMEOUT 300 LABELS "e2e;hostile"
      ENVIRONMENT "${E2E_ENV};SWARMDECK_HOSTILE_BIN=${HOSTILE_DIR}/hostile")
  endforeach()
endif()
