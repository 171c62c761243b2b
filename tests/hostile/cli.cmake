# The hostile suite's command-line cases (issue 14: items 7, 10, 11): a hostile strategy's
# escape sequences against the terminal, memory held per finished deployment, key material and
# core dumps. Python (standard library) drives the binaries as tests/e2e/engine.cmake does;
# tests/e2e/lib_e2e.py is shared.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET swarmdeck AND TARGET swarmdeck-sandbox AND TARGET swarmdeck-runner)
  set(HOSTILE_CLI_ENV
    SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR}
    SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR}
    SWARMDECK_E2E_STRATEGIES=${CMAKE_BINARY_DIR}/e2e-strategies
    PYTHONDONTWRITEBYTECODE=1)
  # name | script | unittest selector (empty = all) | timeout | labels. The terminal and
  # secrets cases also run in the ASan+UBSan tree (the filter and the key paths checked for
  # memory errors); the memory case measures RSS, which a sanitizer's allocator would swamp.
  set(HOSTILE_CLI_TESTS
    "hostile_cli_terminal|cli_terminal.py|Terminal|300|e2e,hostile,sanitize"
    "hostile_cli_secrets|cli_secrets.py|Secrets|300|e2e,hostile,sanitize"
    "hostile_cli_memory|cli_memory.py|Memory|600|e2e,hostile")
  foreach(spec ${HOSTILE_CLI_TESTS})
    string(REPLACE "|" ";" parts "${spec}")
    list(GET parts 0 tname)
    list(GET parts 1 tscript)
    list(GET parts 2 tsel)
    list(GET parts 3 ttimeout)
    list(GET parts 4 tlabels)
    string(REPLACE "," ";" tlabels "${tlabels}")
    if(tname STREQUAL "hostile_cli_memory" AND SWARMDECK_SANITIZED)
      continue()
    endif()
    add_test(NAME ${tname}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/${tscript} -v ${tsel})
    set_tests_properties(${tname} PROPERTIES TIMEOUT ${ttimeout} LABELS "${tlabels}"
      ENVIRONMENT "${HOSTILE_CLI_ENV}")
  endforeach()
endif()

# Key material and core dumps (item 11): the ways a key enters a process, each in a child.
add_executable(test-nodump ${CMAKE_CURRENT_LIST_DIR}/nodump_test.c)
target_include_directories(test-nodump PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit)
target_link_libraries(test-nodump PRIVATE swarmdeck_engine)
add_test(NAME hostile_nodump COMMAND test-nodump)
set_tests_properties(hostile_nodump PROPERTIES LABELS "sanitize;hostile" TIMEOUT 60)

# Memory a finished deployment keeps (item 10): the coordinator with a fake provider whose
# programs write 256 KiB each; heap growth per finished deployment read from the allocator.
add_executable(test-coord-mem ${CMAKE_CURRENT_LIST_DIR}/coord_mem_test.c)
target_include_directories(test-coord-mem PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit)
target_link_libraries(test-coord-mem PRIVATE swarmdeck_engine)
if(SWARMDECK_SANITIZED)
  target_compile_definitions(test-coord-mem PRIVATE SWARMDECK_SANITIZED=1)
endif()
add_test(NAME hostile_coord_mem COMMAND test-coord-mem $<TARGET_FILE:swarmdeck-runner>
         $<TARGET_FILE:swarmdeck-sandbox>)
set_tests_properties(hostile_coord_mem PROPERTIES LABELS "sanitize;tsan;hostile" TIMEOUT 300)
