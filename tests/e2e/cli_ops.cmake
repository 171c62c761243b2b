# The command line's operator's-day fixes (issue 16): tests/e2e/cli_ops.py.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET swarmdeck)
  foreach(c version missing_store db_dir show_wording console_help success_rate gendoc history_run json_shapes)
    add_test(NAME cli_ops_${c} COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/cli_ops.py ${c})
    set_tests_properties(cli_ops_${c} PROPERTIES
      ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_VERSION=${PROJECT_VERSION};PYTHONDONTWRITEBYTECODE=1"
      LABELS "e2e;cli" TIMEOUT 120)
  endforeach()
endif()
