# The console's part of branch `day` (issue 16): pausing with `p` (own engine and through the
# daemon), the deploy dialog's symbol completion and a run's merged output (L), tests/e2e/day_console.py through tmux.
find_package(Python3 COMPONENTS Interpreter)
find_program(TMUX_BIN tmux)
if(Python3_FOUND AND TMUX_BIN AND TARGET swarmdeck)
  foreach(s pause pause_daemon complete runlog)
    add_test(NAME day_console_${s}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/day_console.py ${s})
    set_tests_properties(day_console_${s} PROPERTIES
      ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR};SWARMDECK_E2E_STRATEGIES=${CMAKE_BINARY_DIR}/e2e-strategies;PYTHONDONTWRITEBYTECODE=1"
      LABELS "e2e;console" TIMEOUT 180 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
  endforeach()
endif()
