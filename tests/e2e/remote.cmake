# Remote attach over a real OpenSSH server on loopback (tests/e2e/remote_e2e.py).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET swarmdeck AND TARGET swarmdeck-sandbox AND TARGET swarmdeck-runner)
  foreach(case deploy_wait_status readonly_and_bad_url)
    add_test(NAME remote_${case}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/remote_e2e.py -v
                     Remote.test_${case})
    # readonly_and_bad_url needs no deployment to succeed: the ASan tree runs it too.
    if(case STREQUAL "readonly_and_bad_url")
      set(rlabels "e2e;daemon;sanitize")
    else()
      set(rlabels "e2e;daemon")
    endif()
    set_tests_properties(remote_${case} PROPERTIES TIMEOUT 300 LABELS "${rlabels}"
      ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR};SWARMDECK_E2E_STRATEGIES=${CMAKE_BINARY_DIR}/e2e-strategies;PYTHONDONTWRITEBYTECODE=1")
  endforeach()
endif()
