# An idle console sleeps: tests/bench/console_idle.sh --check counts the times each of its
# threads ran over 10 s once its start-up work is done (a count, not a time): 0 for every
# thread but the daemon's event stream, 0 bytes to the terminal.
find_program(TMUX_BIN tmux)
if(TMUX_BIN AND TARGET swarmdeck)
  add_test(NAME console_idle_wakeups
           COMMAND sh ${CMAKE_SOURCE_DIR}/tests/bench/console_idle.sh ${CMAKE_BINARY_DIR} 10 --check)
  set_tests_properties(console_idle_wakeups PROPERTIES
    LABELS "e2e;console;daemon" TIMEOUT 180 RUN_SERIAL TRUE)
endif()
