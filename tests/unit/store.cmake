# Store unit tests.
add_executable(test-store ${CMAKE_SOURCE_DIR}/tests/unit/store_test.c)
target_link_libraries(test-store PRIVATE swarmdeck_engine)

# One CTest entry per numbered test (test-store NAME runs one; no argument runs all).
foreach(t open_create_reopen migrations_idempotent perms_umask0 newer_schema garbage_refused
          missing_refused readonly batching call_ids flush_durability threads close_drains
          output_exact output_caps output_resume crash_kill9 two_processes fts job_fault
          malloc_fault leases open_while_locked)
  add_test(NAME store_${t} COMMAND test-store ${t})
  set_tests_properties(store_${t} PROPERTIES LABELS "sanitize" TIMEOUT 300)
endforeach()
# The fault loop opens a store a few thousand times, each with fsyncs: on a busy disk it took
# 236 s (78 s in memory) under ASan. Its files go to memory where there is a tmpfs for it.
if(EXISTS /dev/shm)
  set_tests_properties(store_malloc_fault PROPERTIES ENVIRONMENT "TMPDIR=/dev/shm" TIMEOUT 900)
else()
  set_tests_properties(store_malloc_fault PROPERTIES TIMEOUT 900)
endif()
