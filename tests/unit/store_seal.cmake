# Output chunks of an encrypted store: compressed, then sealed by the writer (one nonce per box).
add_executable(test-store-seal ${CMAKE_SOURCE_DIR}/tests/unit/store_seal_test.c)
target_link_libraries(test-store-seal PRIVATE swarmdeck_engine)
foreach(t seal_roundtrip seal_wrongkey)
  add_test(NAME store_${t} COMMAND test-store-seal ${t})
  set_tests_properties(store_${t} PROPERTIES LABELS "sanitize" TIMEOUT 300)
endforeach()
