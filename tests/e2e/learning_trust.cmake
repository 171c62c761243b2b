# learning_e2e with --seed 1007 + i: the stream that trapped auto-optimise on the bound
# x = 1.0 (learn_gp.c, THE LENGTH SCALE; issue 15's review). fx_learn: learning.cmake.
if(Python3_FOUND AND NOT SWARMDECK_SANITIZED)
  add_test(NAME learning_e2e_seed1007 COMMAND ${Python3_EXECUTABLE}
    ${CMAKE_SOURCE_DIR}/tests/e2e/learning_e2e.py ${CMAKE_BINARY_DIR} $<TARGET_FILE:fx_learn> 1007)
  set_tests_properties(learning_e2e_seed1007 PROPERTIES TIMEOUT 600 LABELS "e2e")
endif()

# auto-optimise with a held-out window reports in- and out-of-sample (learning_oos.py).
if(Python3_FOUND AND NOT SWARMDECK_SANITIZED)
  add_test(NAME learning_oos COMMAND ${Python3_EXECUTABLE}
    ${CMAKE_SOURCE_DIR}/tests/e2e/learning_oos.py ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
  set_tests_properties(learning_oos PROPERTIES TIMEOUT 300 LABELS "e2e"
    ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR}")
endif()

# The minimum trades as a flag and a config key (learning_min_trades.py).
if(Python3_FOUND AND NOT SWARMDECK_SANITIZED)
  add_test(NAME learning_min_trades COMMAND ${Python3_EXECUTABLE}
    ${CMAKE_SOURCE_DIR}/tests/e2e/learning_min_trades.py ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
  set_tests_properties(learning_min_trades PROPERTIES TIMEOUT 300 LABELS "e2e"
    ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR}")
endif()
