# Security end-to-end tests (tests/e2e/security_e2e.py): keys, secrets in files, verify,
# bundle tampering, rekey crash safety, a sandbox reading the store. Same environment as
# tests/e2e/engine.cmake (which defines E2E_ENV and the fixture strategies).
if(Python3_FOUND AND TARGET e2e-fixtures)
  foreach(t keys_and_secrets verify_and_tamper bundles rekey sandbox_cannot_read_store_or_key)
    add_test(NAME security_e2e_${t}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/e2e/security_e2e.py -v
                     Security.test_${t})
    set_tests_properties(security_e2e_${t} PROPERTIES TIMEOUT 300 LABELS "e2e"
      ENVIRONMENT "${E2E_ENV}")
  endforeach()
endif()
