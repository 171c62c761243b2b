# The operator's config file (cli/config.c): tests/e2e/config_e2e.py.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET swarmdeck)
  foreach(c defaults values bad perms console example)
    add_test(NAME config_${c} COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/config_e2e.py ${c})
    set_tests_properties(config_${c} PROPERTIES
      ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR};PYTHONDONTWRITEBYTECODE=1"
      LABELS "e2e;cli" TIMEOUT 60)
  endforeach()
endif()
