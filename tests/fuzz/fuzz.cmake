# Fuzz harnesses for the parsers of hostile input (docs/security.md):
# tests/fuzz/fuzz_<name>.c, corpus in tests/fuzz/corpus/<name>/. Harnesses are
# found by glob, so adding one needs only the .c file and a corpus directory.
#
# Three ways they run:
# - every build (gcc or clang, label sanitize so the ASan tree runs them too):
#   linked with driver.c, which replays the corpus plus 2000 seeded mutations;
# - the normal build, when clang is installed: a clang sub-build
#   (fuzz-clang/, SWARMDECK_FUZZ=ON) builds real libFuzzer+ASan harnesses and
#   `make test` runs each for 3 seconds (label fuzz);
# - `make fuzz` (SWARMDECK_FUZZ=ON): the same, 60 seconds each (label fuzz-long).
set(FUZZ_DIR ${CMAKE_SOURCE_DIR}/tests/fuzz)
file(GLOB FUZZ_SOURCES ${FUZZ_DIR}/fuzz_*.c)
set(FUZZ_NAMES)
foreach(src ${FUZZ_SOURCES})
  get_filename_component(n ${src} NAME_WE)
  string(REPLACE "fuzz_" "" n ${n})
  list(APPEND FUZZ_NAMES ${n})
endforeach()

function(fuzz_target name mode)
  set(t fuzz-${name})
  add_executable(${t} ${FUZZ_DIR}/fuzz_${name}.c)
  target_link_libraries(${t} PRIVATE swarmdeck_engine)
  if(name STREQUAL "csv")
    target_link_libraries(${t} PRIVATE runner_core)
  elseif(name STREQUAL "manifest")
    target_link_libraries(${t} PRIVATE runner_csv) # it compiles catalog.c itself
  elseif(name STREQUAL "theme")
    target_link_libraries(${t} PRIVATE swarmdeck_tui)
  endif()
  if(mode STREQUAL "libfuzzer")
    target_link_options(${t} PRIVATE -fsanitize=fuzzer)
  else()
    target_sources(${t} PRIVATE ${FUZZ_DIR}/driver.c)
  endif()
endfunction()

if(SWARMDECK_FUZZ)
  add_custom_target(fuzz-all)
  foreach(n ${FUZZ_NAMES})
    fuzz_target(${n} libfuzzer)
    add_dependencies(fuzz-all fuzz-${n})
    file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz-work/${n})
    # New inputs go to fuzz-work/ (first directory); the source corpus is read only.
    add_test(NAME fuzz_${n} COMMAND fuzz-${n} -max_total_time=3 -timeout=10 -rss_limit_mb=1024
             -artifact_prefix=${CMAKE_BINARY_DIR}/fuzz-work/
             ${CMAKE_BINARY_DIR}/fuzz-work/${n} ${FUZZ_DIR}/corpus/${n})
    set_tests_properties(fuzz_${n} PROPERTIES LABELS "fuzz" TIMEOUT 60)
    add_test(NAME fuzz_long_${n} COMMAND fuzz-${n} -max_total_time=60 -timeout=10
             -artifact_prefix=${CMAKE_BINARY_DIR}/fuzz-work/
             -rss_limit_mb=2048 ${CMAKE_BINARY_DIR}/fuzz-work/${n} ${FUZZ_DIR}/corpus/${n})
    set_tests_properties(fuzz_long_${n} PROPERTIES LABELS "fuzz-long" TIMEOUT 300)
  endforeach()
else()
  foreach(n ${FUZZ_NAMES})
    fuzz_target(${n} driver)
    add_test(NAME fuzz_replay_${n} COMMAND fuzz-${n} -runs=2000 ${FUZZ_DIR}/corpus/${n})
    set_tests_properties(fuzz_replay_${n} PROPERTIES LABELS "sanitize" TIMEOUT 300)
  endforeach()
  find_program(SWARMDECK_CLANG NAMES clang clang-14)
  if(SWARMDECK_CLANG AND NOT SWARMDECK_SANITIZED)
    include(ExternalProject)
    set(FUZZ_SUB ${CMAKE_BINARY_DIR}/fuzz-clang)
    ExternalProject_Add(fuzz-clang
      SOURCE_DIR ${CMAKE_SOURCE_DIR}
      BINARY_DIR ${FUZZ_SUB}
      CMAKE_ARGS -DCMAKE_C_COMPILER=${SWARMDECK_CLANG} -DSWARMDECK_FUZZ=ON
                 -DCMAKE_BUILD_TYPE=RelWithDebInfo
      BUILD_COMMAND ${CMAKE_COMMAND} --build ${FUZZ_SUB} --target fuzz-all
      BUILD_ALWAYS ON
      INSTALL_COMMAND ""
      STEP_TARGETS build)
    foreach(n ${FUZZ_NAMES})
      file(MAKE_DIRECTORY ${FUZZ_SUB}/fuzz-work/${n})
      add_test(NAME fuzz_${n} COMMAND ${FUZZ_SUB}/fuzz-${n} -max_total_time=3 -timeout=10
               -artifact_prefix=${FUZZ_SUB}/fuzz-work/
               -rss_limit_mb=1024 ${FUZZ_SUB}/fuzz-work/${n} ${FUZZ_DIR}/corpus/${n})
      set_tests_properties(fuzz_${n} PROPERTIES LABELS "fuzz" TIMEOUT 60)
    endforeach()
  endif()
endif()
