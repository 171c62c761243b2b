# The hostile suite, sandbox part (tests/hostile/sandbox_hostile.py): a hostile user strategy
# (tests/hostile/hostile.c, static) deployed through `swarmdeck deploy` attacks the local
# sandbox: trees the engine must remove, a full work dir, every socket family, killed
# helpers and CLIs, crafted manifests. One ctest per attack class; docs/security.md's attack
# table names them. Same environment as tests/e2e/engine.cmake (E2E_ENV, the lib_e2e.py
# helpers), which is included before this file.
if(Python3_FOUND AND TARGET e2e-fixtures)
  set(HOSTILE_DIR ${CMAKE_BINARY_DIR}/hostile-strategies)
  add_executable(hostile-strategy ${CMAKE_CURRENT_LIST_DIR}/hostile.c)
  set_target_properties(hostile-strategy PROPERTIES OUTPUT_NAME hostile
    RUNTIME_OUTPUT_DIRECTORY ${HOSTILE_DIR})
  if(SWARMDECK_SANITIZED)
    target_compile_options(hostile-strategy PRIVATE -fno-sanitize=all)
    target_link_options(hostile-strategy PRIVATE -fno-sanitize=all)
  endif()
  target_link_options(hostile-strategy PRIVATE -static)
  add_dependencies(e2e-fixtures hostile-strategy)

  foreach(t tree_sandboxed tree_unsandboxed tree_cleanup_after_kill disk_size disk_inodes
            sockets udp_dns killed_helper killed_group killed_cli upload_duplicate upload_data_csv
            upload_outside upload_copy)
    add_test(NAME hostile_sandbox_${t}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/sandbox_hostile.py -v
                     Hostile.test_${t})
    set_tests_properties(hostile_sandbox_${t} PROPERTIES TIMEOUT 300 LABELS "e2e;hostile"
      ENVIRONMENT "${E2E_ENV};SWARMDECK_HOSTILE_BIN=${HOSTILE_DIR}/hostile")
  endforeach()
endif()

# sd_rm_rf on a 64 KiB thread stack against a hostile tree, and an immutable leftover that is
# reported, not fatal (item 1). C only: runs in the ASan+UBSan tree too.
add_executable(rm_tree_test ${CMAKE_CURRENT_LIST_DIR}/rm_tree_test.c)
target_link_libraries(rm_tree_test PRIVATE swarmdeck_engine)
add_test(NAME hostile_rm_tree COMMAND rm_tree_test)
set_tests_properties(hostile_rm_tree PROPERTIES TIMEOUT 300 LABELS "hostile;sanitize")
