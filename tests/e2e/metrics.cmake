# The daemon's Prometheus metrics against a real Prometheus (Debian's prometheus package,
# started by the test on loopback): tests/e2e/metrics_e2e.py.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET swarmdeck AND TARGET swarmdeck-sandbox AND TARGET swarmdeck-runner)
  foreach(case exposition_and_scrape rules_file bad_address_and_paths)
    add_test(NAME metrics_${case}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/metrics_e2e.py -v
                     Metrics.test_${case})
    # Cases that need no deployment to succeed run in the ASan tree too.
    if(case STREQUAL "exposition_and_scrape")
      set(mlabels "e2e;daemon")
    else()
      set(mlabels "e2e;daemon;sanitize")
    endif()
    set_tests_properties(metrics_${case} PROPERTIES TIMEOUT 300 LABELS "${mlabels}"
      ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR};SWARMDECK_E2E_STRATEGIES=${CMAKE_BINARY_DIR}/e2e-strategies;PYTHONDONTWRITEBYTECODE=1")
  endforeach()
endif()
