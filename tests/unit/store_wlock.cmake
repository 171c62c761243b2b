# A process streaming output through its store writer leaves the write lock to other processes
# writing the same store (store_wlock_test.c): they never fail with "database is locked".
add_executable(test-store-wlock ${CMAKE_SOURCE_DIR}/tests/unit/store_wlock_test.c)
target_link_libraries(test-store-wlock PRIVATE swarmdeck_engine)
foreach(t streaming_neighbour)
  add_test(NAME store_wlock_${t} COMMAND test-store-wlock ${t})
  set_tests_properties(store_wlock_${t} PROPERTIES LABELS "sanitize" TIMEOUT 600)
endforeach()
