# Security unit tests: encryption at rest, fingerprint chain, rekey, bundle integrity.
add_executable(test-security ${CMAKE_SOURCE_DIR}/tests/unit/security_test.c)
target_link_libraries(test-security PRIVATE swarmdeck_engine)
foreach(t chain encrypted rekey rekey_crash rekey_concurrent migrate_v1 bundle)
  add_test(NAME security_${t} COMMAND test-security ${t})
  set_tests_properties(security_${t} PROPERTIES LABELS "sanitize" TIMEOUT 120)
endforeach()
