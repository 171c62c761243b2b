# The fleet (docs/fleet.md): three daemons sharing trajectories through a real nats-server with
# JetStream, and `swarmdeck sync` through a real sshd, both started by the test on loopback
# (fleet_e2e.py). One ctest per case, each with its own stores and servers.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET swarmdeck AND TARGET swarmdeck-sandbox AND TARGET swarmdeck-runner)
  set(FLEET_E2E_ENV
    SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR}
    SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR}
    SWARMDECK_E2E_STRATEGIES=${CMAKE_BINARY_DIR}/e2e-strategies
    PYTHONDONTWRITEBYTECODE=1)
  set(FLEET_E2E_TESTS
    "fleet_e2e_converge|Fleet.test_three_daemons_converge"
    "fleet_e2e_nats_restart|Fleet.test_nats_restart_mid_swarm"
    "fleet_e2e_catch_up|Fleet.test_down_daemon_catches_up"
    "fleet_e2e_tampered|Fleet.test_tampered_record_refused"
    "fleet_e2e_sync|Sync.test_pull_push_then_nothing"
    "fleet_e2e_sync_unreachable|Sync.test_unreachable_peer_changes_nothing")
  foreach(spec ${FLEET_E2E_TESTS})
    string(REPLACE "|" ";" parts "${spec}")
    list(GET parts 0 tname)
    list(GET parts 1 tsel)
    add_test(NAME ${tname}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/fleet_e2e.py -v ${tsel})
    set_tests_properties(${tname} PROPERTIES TIMEOUT 900 LABELS "e2e;fleet"
      ENVIRONMENT "${FLEET_E2E_ENV}")
  endforeach()
endif()
