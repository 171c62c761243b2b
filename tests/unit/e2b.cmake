# E2B provider pieces that need no network: the Connect stream decoder, envd process events,
# base64 (engine/provider/connect.c) and the circuit breaker (engine/base/breaker.c). Pure logic; labelled
# "sanitize" so it also runs under ASan+UBSan.
add_executable(connect_test ${CMAKE_CURRENT_LIST_DIR}/connect_test.c)
target_link_libraries(connect_test PRIVATE swarmdeck_engine)
add_test(NAME connect_unit COMMAND connect_test)
set_tests_properties(connect_unit PROPERTIES LABELS "e2b;sanitize")
# The E2B key redaction (issue 14: a hostile API echoing the key upper-cased or in pieces).
add_executable(e2b_redact_test ${CMAKE_CURRENT_LIST_DIR}/e2b_redact_test.c)
target_link_libraries(e2b_redact_test PRIVATE swarmdeck_engine)
add_test(NAME e2b_redact_unit COMMAND e2b_redact_test)
set_tests_properties(e2b_redact_unit PROPERTIES LABELS "e2b;sanitize")
