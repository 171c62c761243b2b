# `T` shows stored chunk times: tests/e2e/console_times.py.
find_package(Python3 COMPONENTS Interpreter)
find_program(TMUX_BIN tmux)
if(Python3_FOUND AND TMUX_BIN AND TARGET swarmdeck)
  add_test(NAME console_times COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/console_times.py)
  set_tests_properties(console_times PROPERTIES
    ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR};SWARMDECK_E2E_STRATEGIES=${CMAKE_BINARY_DIR}/e2e-strategies;PYTHONDONTWRITEBYTECODE=1"
    LABELS "e2e;console" TIMEOUT 120 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
endif()
