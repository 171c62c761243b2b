# Crypto primitives against known-answer vectors (NIST SHA3/GCM, RFC 7914 scrypt).
add_executable(test-crypto ${CMAKE_SOURCE_DIR}/tests/unit/crypto_test.c)
target_link_libraries(test-crypto PRIVATE swarmdeck_engine)
add_test(NAME crypto_vectors COMMAND test-crypto)
set_tests_properties(crypto_vectors PROPERTIES LABELS "sanitize" TIMEOUT 60)
