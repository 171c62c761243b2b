# The console's early failure paths (a TERM curses does not know): exit 3, and
# every thread it started is joined and everything freed. Labelled "sanitize"
# so the ASan build runs it: a leak or a use after free fails it there.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET swarmdeck)
  add_test(NAME console_badterm
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/console_badterm.py)
  set_tests_properties(console_badterm PROPERTIES
    ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};PYTHONDONTWRITEBYTECODE=1"
    LABELS "console;sanitize" TIMEOUT 120)
endif()
