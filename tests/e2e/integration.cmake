# Cross-feature end-to-end tests (tests/e2e/integration_e2e.py): the E2B double, encryption at
# rest with the fingerprint chain, and `benchmark`, combined. One ctest per class; each has its
# own double, store and runtime dir, so they run in parallel. They need the benchmark's static
# fixture (bench-flaky, tests/e2e/benchmark.cmake) and the fixture strategies
# (tests/e2e/engine.cmake); both areas are included before this one (sorted glob).
# EncryptedBench, E2bBench and Status run only the static fixture or the runner outside a
# sandbox (the double runs it as a plain process), so they also run in the ASan+UBSan tree.
if(Python3_FOUND AND TARGET bench-flaky AND TARGET e2e-fixtures)
  # name | unittest class | extra label | timeout
  foreach(spec "integration_encrypted_e2b|EncryptedE2b||300"
               "integration_encrypted_bench|EncryptedBench|sanitize|300"
               "integration_e2b_bench|E2bBench|sanitize|300"
               "integration_encrypted_sweep|EncryptedSweep||300"
               "integration_rekey|Rekey||300"
               "integration_status|Status|sanitize|180")
    string(REPLACE "|" ";" parts "${spec}")
    list(GET parts 0 tname)
    list(GET parts 1 tclass)
    list(GET parts 2 tlabel)
    list(GET parts 3 ttimeout)
    add_test(NAME ${tname} COMMAND ${Python3_EXECUTABLE}
      ${CMAKE_CURRENT_LIST_DIR}/integration_e2e.py -v ${tclass})
    set_tests_properties(${tname} PROPERTIES TIMEOUT ${ttimeout}
      LABELS "e2e;integration;${tlabel}"
      ENVIRONMENT "${E2E_ENV};BENCH_FLAKY=$<TARGET_FILE:bench-flaky>")
  endforeach()
endif()
