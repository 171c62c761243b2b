# Console end-to-end tests: tmux drives `swarmdeck console` on a fresh store
# (tests/e2e/console_e2e.py, one CTest entry per scenario). Goldens live in
# tests/e2e/golden/; UPDATE_GOLDEN=1 regenerates them.
find_package(Python3 COMPONENTS Interpreter)
find_program(TMUX_BIN tmux)
if(Python3_FOUND AND TMUX_BIN AND TARGET swarmdeck)
  foreach(s flow_80x24 grid_200x50 resize no_color ascii braille mouse golden_80x24 golden_200x50
            idle readonly
            learning_80x24 firehose term_screen term_linux term_vt100 gnu_screen guide
            sigterm sighup slow_store slow_cleanup slow_deploy)
    add_test(NAME console_e2e_${s}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/console_e2e.py ${s})
    set_tests_properties(console_e2e_${s} PROPERTIES
      ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR};SWARMDECK_E2E_STRATEGIES=${CMAKE_BINARY_DIR}/e2e-strategies;PYTHONDONTWRITEBYTECODE=1"
      LABELS "e2e;console" TIMEOUT 120 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
  endforeach()
endif()

# The console as a client of the daemon (console_daemon.py): work outlives the console,
# two consoles on one daemon, a read-only console refused by the daemon, reconnecting.
if(Python3_FOUND AND TMUX_BIN AND TARGET swarmdeck)
  foreach(s survives two_consoles readonly_kill reconnect first_run)
    add_test(NAME console_daemon_${s}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/console_daemon.py ${s})
    set_tests_properties(console_daemon_${s} PROPERTIES
      ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR};SWARMDECK_E2E_STRATEGIES=${CMAKE_BINARY_DIR}/e2e-strategies;PYTHONDONTWRITEBYTECODE=1"
      LABELS "e2e;console;daemon" TIMEOUT 300 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
  endforeach()
endif()
