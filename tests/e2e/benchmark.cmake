# `swarmdeck benchmark` end to end (tests/e2e/benchmark_e2e.py, one ctest per class). The
# fixture strategy tests/fixtures/strategies/bench_flaky.c is static so it runs in the sandbox's
# minimal root. Flaky and BadInput also run in the ASan+UBSan tree (label "sanitize"): they use
# only that fixture, built without sanitizers. Light deploys the built-ins, whose runner in the
# sanitizer tree fails inside a sandbox (LeakSanitizer cannot run there), so it runs in the
# normal tree only, like Chromium, which renders the HTML report and needs the chromium package
# (scripts/deps.sh --test).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET swarmdeck AND TARGET swarmdeck-sandbox AND TARGET swarmdeck-runner)
  add_executable(bench-flaky ${CMAKE_SOURCE_DIR}/tests/fixtures/strategies/bench_flaky.c)
  if(SWARMDECK_SANITIZED)
    target_compile_options(bench-flaky PRIVATE -fno-sanitize=all)
    target_link_options(bench-flaky PRIVATE -fno-sanitize=all)
  endif()
  target_link_options(bench-flaky PRIVATE -static)
  # name | unittest class | extra label | timeout
  foreach(spec "benchmark_light|Light||300" "benchmark_flaky|Flaky|sanitize|300"
               "benchmark_badinput|BadInput|sanitize|180" "benchmark_interrupt|Interrupt|sanitize|180"
               "benchmark_provider|ProviderError|sanitize|180" "benchmark_chromium|Chromium||300")
    string(REPLACE "|" ";" parts "${spec}")
    list(GET parts 0 tname)
    list(GET parts 1 tclass)
    list(GET parts 2 tlabel)
    list(GET parts 3 ttimeout)
    add_test(NAME ${tname} COMMAND ${Python3_EXECUTABLE}
      ${CMAKE_CURRENT_LIST_DIR}/benchmark_e2e.py -v ${tclass})
    set_tests_properties(${tname} PROPERTIES TIMEOUT ${ttimeout} LABELS "e2e;benchmark;${tlabel}"
      ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR};BENCH_FLAKY=$<TARGET_FILE:bench-flaky>;PYTHONDONTWRITEBYTECODE=1")
  endforeach()
endif()
