# The console of the operator's day (issue 16, second part): tests/e2e/console_day.py,
# one CTest entry per scenario, on the Console harness of console_e2e.py.
find_package(Python3 COMPONENTS Interpreter)
find_program(TMUX_BIN tmux)
if(Python3_FOUND AND TMUX_BIN AND TARGET swarmdeck)
  foreach(s protocol confirm details keys finished learning swarm rerun save small compare)
    add_test(NAME console_day_${s}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/console_day.py ${s})
    set_tests_properties(console_day_${s} PROPERTIES
      ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR};SWARMDECK_E2E_STRATEGIES=${CMAKE_BINARY_DIR}/e2e-strategies;PYTHONDONTWRITEBYTECODE=1"
      LABELS "e2e;console" TIMEOUT 120 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
  endforeach()
endif()
