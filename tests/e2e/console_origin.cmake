# The console marks and filters synced trajectories by origin (issue 19 part 4) and its deploy
# dialog takes the CLI's agent counts (issue 16): tests/e2e/console_origin.py, through tmux.
find_package(Python3 COMPONENTS Interpreter)
find_program(TMUX_BIN tmux)
if(Python3_FOUND AND TMUX_BIN AND TARGET swarmdeck)
  foreach(s origin agents)
    add_test(NAME console_origin_${s}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/console_origin.py ${s})
    set_tests_properties(console_origin_${s} PROPERTIES
      ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR};SWARMDECK_E2E_STRATEGIES=${CMAKE_BINARY_DIR}/e2e-strategies;PYTHONDONTWRITEBYTECODE=1"
      LABELS "e2e;console" TIMEOUT 240 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
  endforeach()
endif()
