# E2B provider end-to-end tests: swarmdeck against the E2B double (tests/fixtures/e2b_double.py),
# which serves the control plane and a header-routed envd on 127.0.0.1 and really runs the
# uploaded runner. tests/e2e/e2b_e2e.py covers the protocol and its faults, e2b_prod_e2e.py the
# production conditions of issue 18 (TTL, capacity, plan limits, credentials). python3 standard
# library only; each test has its own double, store and runtime dir, so they run in parallel.
# Not in the sanitizer tree: the unit test connect_unit covers the decoder there, and these are
# I/O-bound.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET swarmdeck AND TARGET swarmdeck-sandbox AND TARGET swarmdeck-runner)
  set(E2B_E2E_ENV
    SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR}
    SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR}
    PYTHONDONTWRITEBYTECODE=1)
  # script | name | unittest selector | timeout
  set(E2B_TESTS
    "e2b_e2e|e2b_swarm|Swarm|600"
    "e2b_e2e|e2b_faults|Faults|600"
    "e2b_e2e|e2b_samples|Samples|120"
    "e2b_e2e|e2b_breaker|Breaker|300"
    "e2b_e2e|e2b_instances|Instances|300"
    "e2b_e2e|e2b_sweep|Sweep|300"
    "e2b_e2e|e2b_secrets|Secrets|300"
    "e2b_prod_e2e|e2b_ttl|Ttl|300"
    "e2b_prod_e2e|e2b_capacity|Capacity|300"
    "e2b_prod_e2e|e2b_internet|Internet|120"
    "e2b_prod_e2e|e2b_createwait|CreateWait|120"
    "e2b_prod_e2e|e2b_envd|Envd|120"
    "e2b_prod_e2e|e2b_creds|Creds|120"
    "e2b_prod_e2e|e2b_metrics|Metrics|120"
    "e2b_prod_e2e|e2b_resources|Resources|120"
    "e2b_prod_e2e|e2b_redact|Redact|120"
    "e2b_prod_e2e|e2b_regions|Regions|300"
    "e2b_prod_e2e|e2b_template|Template|300"
    "e2b_prod_e2e|e2b_reconnect|Reconnect|120")
  foreach(spec ${E2B_TESTS})
    string(REPLACE "|" ";" parts "${spec}")
    list(GET parts 0 tscript)
    list(GET parts 1 tname)
    list(GET parts 2 tsel)
    list(GET parts 3 ttimeout)
    add_test(NAME ${tname}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/${tscript}.py -v ${tsel})
    set_tests_properties(${tname} PROPERTIES TIMEOUT ${ttimeout} LABELS "e2e;e2b"
      ENVIRONMENT "${E2B_E2E_ENV}")
  endforeach()
endif()
# The double stays honest: the official E2B JS SDK (npm e2b, pinned in the script, installed by
# the test into <build>/npm-e2b) against the double. Skipped (77) without node/npm or network.
if(Python3_FOUND)
  add_test(NAME e2b_sdk COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/e2b_sdk_e2e.py -v)
  set_tests_properties(e2b_sdk PROPERTIES TIMEOUT 900 LABELS "e2e;e2b" SKIP_RETURN_CODE 77
    ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};PYTHONDONTWRITEBYTECODE=1")
endif()
# The provider's reattach and resume driven by two processes (e2b_prod_e2e.py Reconnect).
if(TARGET swarmdeck_engine)
  add_executable(e2b_resume_driver ${CMAKE_CURRENT_LIST_DIR}/e2b_resume_driver.c)
  target_link_libraries(e2b_resume_driver PRIVATE swarmdeck_engine)
endif()
