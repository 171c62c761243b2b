# Store unit tests: built straight from the store's sources (not the engine
# library) so they do not depend on the rest of engine/ compiling.
# (Same block in tests/bench/store.cmake: whichever is included first defines it.)
# util.c's sd_err_prefix trips GCC's -Wformat-truncation at -O2; not ours to edit.
if(NOT TARGET swarmdeck_store_objs)
  add_library(swarmdeck_store_objs OBJECT
    ${CMAKE_SOURCE_DIR}/engine/store.c
    ${CMAKE_SOURCE_DIR}/engine/store_schema.c
    ${CMAKE_SOURCE_DIR}/engine/util.c)
  target_include_directories(swarmdeck_store_objs PUBLIC ${CMAKE_SOURCE_DIR}/engine)
  target_link_libraries(swarmdeck_store_objs PUBLIC PkgConfig::SQLITE Threads::Threads)
  set_source_files_properties(${CMAKE_SOURCE_DIR}/engine/util.c TARGET_DIRECTORY swarmdeck_store_objs
    PROPERTIES COMPILE_OPTIONS "-Wno-error=format-truncation")
endif()
add_executable(test-store ${CMAKE_SOURCE_DIR}/tests/unit/store_test.c)
target_link_libraries(test-store PRIVATE swarmdeck_store_objs)

# One CTest entry per numbered test (test-store NAME runs one; no argument runs all).
foreach(t open_create_reopen migrations_idempotent perms_umask0 newer_schema garbage_refused
          missing_refused readonly batching call_ids flush_durability threads close_drains
          output_exact output_caps output_resume crash_kill9 two_processes fts job_fault
          malloc_fault leases)
  add_test(NAME store_${t} COMMAND test-store ${t})
  set_tests_properties(store_${t} PROPERTIES LABELS "sanitize" TIMEOUT 300)
endforeach()
