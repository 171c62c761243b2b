# A fleet merge in the background (engine/fleet) gives the receiving daemon a "learning" event
# (engine/serve/pump.c polls learn_version): a real nats-server and two daemons on loopback
# (fleet_learning_ev.py).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET swarmdeck AND TARGET swarmdeck-sandbox AND TARGET swarmdeck-runner)
  add_test(NAME fleet_learning_ev
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/fleet_learning_ev.py -v)
  set_tests_properties(fleet_learning_ev PROPERTIES TIMEOUT 600 LABELS "e2e;fleet;daemon"
    ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR};SWARMDECK_E2E_STRATEGIES=${CMAKE_BINARY_DIR}/e2e-strategies;PYTHONDONTWRITEBYTECODE=1")
endif()
