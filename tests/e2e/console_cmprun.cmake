# A run's merged output view (L) follows the run while open (issue 16): tests/e2e/console_cmprun.py
# and two runs compared side by side (=, :compare-run), through tmux.
find_package(Python3 COMPONENTS Interpreter)
find_program(TMUX_BIN tmux)
if(Python3_FOUND AND TMUX_BIN AND TARGET swarmdeck)
  foreach(s follow follow_daemon runs)
    add_test(NAME console_cmprun_${s}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/console_cmprun.py ${s})
    set_tests_properties(console_cmprun_${s} PROPERTIES
      ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR};SWARMDECK_E2E_STRATEGIES=${CMAKE_BINARY_DIR}/e2e-strategies;PYTHONDONTWRITEBYTECODE=1"
      LABELS "e2e;console" TIMEOUT 180 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
  endforeach()
endif()
