# Learning end to end through the local provider (tests/e2e/learning_e2e.py).
add_executable(fx_learn ${CMAKE_SOURCE_DIR}/tests/fixtures/learning/fx.c)
target_link_libraries(fx_learn PRIVATE m)
if(NOT SWARMDECK_SANITIZED)
  target_link_options(fx_learn PRIVATE -static)
  find_package(Python3 COMPONENTS Interpreter)
  if(Python3_FOUND)
    add_test(NAME learning_e2e COMMAND ${Python3_EXECUTABLE}
      ${CMAKE_SOURCE_DIR}/tests/e2e/learning_e2e.py ${CMAKE_BINARY_DIR} $<TARGET_FILE:fx_learn>)
    set_tests_properties(learning_e2e PROPERTIES TIMEOUT 600 LABELS "e2e")
  endif()
endif()

# A sandbox's environment is clean (tests/e2e/engine_env.py).
if(Python3_FOUND AND NOT SWARMDECK_SANITIZED)
  add_test(NAME engine_env COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/e2e/engine_env.py
    ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
  set_tests_properties(engine_env PROPERTIES TIMEOUT 120 LABELS "e2e")
endif()

# Deployments on imported bars (tests/e2e/engine_imported.py).
if(Python3_FOUND AND NOT SWARMDECK_SANITIZED)
  add_test(NAME engine_imported COMMAND ${Python3_EXECUTABLE}
    ${CMAKE_SOURCE_DIR}/tests/e2e/engine_imported.py ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
  set_tests_properties(engine_imported PROPERTIES TIMEOUT 120 LABELS "e2e")
endif()

# The learning commands as an operator uses them (tests/e2e/learning_cli.py).
if(Python3_FOUND AND NOT SWARMDECK_SANITIZED)
  add_test(NAME learning_cli COMMAND ${Python3_EXECUTABLE}
    ${CMAKE_SOURCE_DIR}/tests/e2e/learning_cli.py ${CMAKE_BINARY_DIR})
  set_tests_properties(learning_cli PROPERTIES TIMEOUT 300 LABELS "e2e")
endif()

# The runner's held-out window (tests/e2e/learning_window.py).
if(Python3_FOUND AND NOT SWARMDECK_SANITIZED)
  add_test(NAME learning_window COMMAND ${Python3_EXECUTABLE}
    ${CMAKE_SOURCE_DIR}/tests/e2e/learning_window.py ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
  set_tests_properties(learning_window PROPERTIES TIMEOUT 120 LABELS "e2e")
endif()

# deploy's walk-forward window, in process and through a daemon (learning_deploy_window.py).
if(Python3_FOUND AND NOT SWARMDECK_SANITIZED)
  add_test(NAME learning_deploy_window COMMAND ${Python3_EXECUTABLE}
    ${CMAKE_SOURCE_DIR}/tests/e2e/learning_deploy_window.py ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
  set_tests_properties(learning_deploy_window PROPERTIES TIMEOUT 300 LABELS "e2e"
    ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR}")
endif()
