# The console header's fingerprint-chain state (tui/fetch.h: verified on the
# reader thread, recorded unless --readonly), driven through tmux
# (tests/e2e/console_chain.py, one CTest entry per scenario).
find_package(Python3 COMPONENTS Interpreter)
find_program(TMUX_BIN tmux)
if(Python3_FOUND AND TMUX_BIN AND TARGET swarmdeck)
  foreach(s verify_key after_deploy readonly)
    add_test(NAME console_chain_${s}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/console_chain.py ${s})
    set_tests_properties(console_chain_${s} PROPERTIES
      ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR};SWARMDECK_E2E_STRATEGIES=${CMAKE_BINARY_DIR}/e2e-strategies;PYTHONDONTWRITEBYTECODE=1"
      LABELS "e2e;console" TIMEOUT 120 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
  endforeach()
endif()
