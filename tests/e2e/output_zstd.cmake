# Compressed, timed output chunks (engine/store/store_zstd.c, schema v4): python3 drives the
# binaries against real sandboxes and stores (lib_e2e.py).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET swarmdeck AND TARGET swarmdeck-sandbox AND TARGET swarmdeck-runner)
  add_test(NAME output_zstd COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/output_zstd.py -v)
  set_tests_properties(output_zstd PROPERTIES TIMEOUT 300 LABELS "e2e"
    ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR};PYTHONDONTWRITEBYTECODE=1")
endif()
