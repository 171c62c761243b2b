# Cross-feature end-to-end tests (tests/e2e/integration_e2e.py): the E2B double, encryption at
# rest with the fingerprint chain, and `benchmark`, combined. Each test has its own double, store
# and runtime dir, so they run in parallel. They need the benchmark's static fixture (bench-flaky,
# tests/e2e/benchmark.cmake) and the fixture strategies (tests/e2e/engine.cmake); both areas are
# included before this one (sorted glob). Tests labelled "sanitize" also run in the ASan+UBSan
# tree: they run only the static fixture in local sandboxes, and the runner only through the
# double (a plain process there); the built-ins' sanitized runner cannot run in a local sandbox
# (LeakSanitizer), so the others run in the normal tree only.
if(Python3_FOUND AND TARGET bench-flaky AND TARGET e2e-fixtures)
  # name | unittest selectors (space separated) | extra label | timeout
  foreach(spec "integration_encrypted_e2b|EncryptedE2b||300"
               "integration_encrypted_bench|EncryptedBench|sanitize|300"
               "integration_e2b_bench|E2bBench|sanitize|300"
               "integration_encrypted_sweep|EncryptedSweep.test_kill9_then_cleanup EncryptedSweep.test_cleanup_without_key|sanitize|300"
               "integration_encrypted_sweep_start|EncryptedSweep.test_deploy_sweeps_at_start||180"
               "integration_rekey|Rekey|sanitize|300"
               "integration_status|Status|sanitize|180")
    string(REPLACE "|" ";" parts "${spec}")
    list(GET parts 0 tname)
    list(GET parts 1 tsel)
    list(GET parts 2 tlabel)
    list(GET parts 3 ttimeout)
    separate_arguments(tsel)
    add_test(NAME ${tname} COMMAND ${Python3_EXECUTABLE}
      ${CMAKE_CURRENT_LIST_DIR}/integration_e2e.py -v ${tsel})
    set_tests_properties(${tname} PROPERTIES TIMEOUT ${ttimeout}
      LABELS "e2e;integration;${tlabel}"
      ENVIRONMENT "${E2E_ENV};BENCH_FLAKY=$<TARGET_FILE:bench-flaky>")
  endforeach()
endif()
