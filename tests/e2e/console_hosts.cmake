# One console on two servers (issue 19 part 1): tests/e2e/console_hosts.py, two daemons
# reached through a real sshd on loopback, driven through tmux.
find_package(Python3 COMPONENTS Interpreter)
find_program(TMUX_BIN tmux)
if(Python3_FOUND AND TMUX_BIN AND TARGET swarmdeck)
  foreach(s both deploy lost start resume config learning provider)
    add_test(NAME console_hosts_${s}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/console_hosts.py ${s})
    set_tests_properties(console_hosts_${s} PROPERTIES
      ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR};SWARMDECK_E2E_STRATEGIES=${CMAKE_BINARY_DIR}/e2e-strategies;PYTHONDONTWRITEBYTECODE=1"
      LABELS "e2e;console;daemon" TIMEOUT 240 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
  endforeach()
endif()
