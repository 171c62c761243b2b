# The pool master's shared empty network namespace (tests/hostile/sandbox_netshare.py). Same
# environment as tests/hostile/sandbox.cmake (E2E_ENV), included before.
if(Python3_FOUND AND TARGET e2e-fixtures)
  foreach(t Netshare.test_shared Netshare.test_shared_nopidns Netshare.test_per_sandbox
            Netshare.test_forced Netshare.test_probe
            Engine.test_engine_shared Engine.test_engine_default)
    string(REGEX REPLACE ".*\\.test_" "" short ${t})
    add_test(NAME hostile_netshare_${short}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/sandbox_netshare.py -v ${t})
    set_tests_properties(hostile_netshare_${short} PROPERTIES TIMEOUT 300 LABELS "e2e;hostile"
      ENVIRONMENT "${E2E_ENV};SWARMDECK_HOSTILE_BIN=${HOSTILE_DIR}/hostile")
  endforeach()
endif()
