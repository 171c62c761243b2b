# Sandbox helper tests: static fixture payloads plus a python3 (stdlib) harness that runs
# swarmdeck-sandbox as the engine does and asserts containment, status events and cleanup.
# Each case is its own ctest so they run in parallel; each uses a unique sandbox id and uid base.
if(TARGET swarmdeck-sandbox)
  set(SBX_FIXTURE_DIR ${CMAKE_BINARY_DIR}/sandbox-fixtures)
  set(SBX_FIXTURES readhost connect forkbomb alloc flood ignoreterm daemon good exit7 syscalls)
  set(SBX_FIXTURE_TARGETS)
  foreach(fx ${SBX_FIXTURES})
    add_executable(sbxfx-${fx} ${CMAKE_SOURCE_DIR}/tests/fixtures/payloads/${fx}.c)
    set_target_properties(sbxfx-${fx} PROPERTIES OUTPUT_NAME ${fx}
      RUNTIME_OUTPUT_DIRECTORY ${SBX_FIXTURE_DIR})
    if(NOT SWARMDECK_SANITIZED)
      # Static: the sandbox root has /usr but no loader paths outside it are guaranteed.
      target_link_options(sbxfx-${fx} PRIVATE -static)
    else()
      target_compile_options(sbxfx-${fx} PRIVATE -fno-sanitize=all)
      target_link_options(sbxfx-${fx} PRIVATE -fno-sanitize=all -static)
    endif()
    list(APPEND SBX_FIXTURE_TARGETS sbxfx-${fx})
  endforeach()
  configure_file(${CMAKE_SOURCE_DIR}/tests/fixtures/payloads/listroot.sh
    ${SBX_FIXTURE_DIR}/listroot.sh COPYONLY)
  add_custom_target(sandbox-fixtures ALL DEPENDS ${SBX_FIXTURE_TARGETS})

  set(SBX_TESTS
    good exit7 not_found not_executable visible_root shell_payload read_host connect_host
    connect_no_netns seccomp_denials fork_bomb oom flood_drained flood_timeout ignore_term
    daemon_gone sigterm_helper lifeline sweep probe strict_refusal level_degraded samples
    usage_errors)
  foreach(t ${SBX_TESTS})
    add_test(NAME sandbox_${t}
      COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/sandbox_test.py
        --helper $<TARGET_FILE:swarmdeck-sandbox> --fixtures ${SBX_FIXTURE_DIR} ${t})
    set_tests_properties(sandbox_${t} PROPERTIES TIMEOUT 120 LABELS "sandbox")
  endforeach()
endif()
