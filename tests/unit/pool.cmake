# The local provider's warm pool under concurrent use (tests/unit/pool_test.c): threads
# deploying through it while the refill thread runs, and a free with helpers in the pool.
# Normal, ASan+UBSan and ThreadSanitizer trees; needs root (skips otherwise).
add_executable(test-pool ${CMAKE_SOURCE_DIR}/tests/unit/pool_test.c)
target_include_directories(test-pool PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit)
target_link_libraries(test-pool PRIVATE swarmdeck_engine)
add_test(NAME pool_concurrent COMMAND test-pool $<TARGET_FILE:swarmdeck-sandbox>)
set_tests_properties(pool_concurrent PROPERTIES LABELS "sanitize;tsan;sandbox" TIMEOUT 300)
