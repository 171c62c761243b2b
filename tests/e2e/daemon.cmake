# Daemon end-to-end tests (tests/e2e/daemon_e2e.py): `swarmdeck serve`, the CLI as its client
# (deploy --detach, wait), its HTTP API on the Unix sockets, the event stream, crash recovery
# and --on-finish. One ctest per case; each case has its own store, XDG_RUNTIME_DIR and
# XDG_STATE_HOME, so no two share a daemon. Run them with `ctest -L daemon`.
# This file is included before engine.cmake (alphabetical), so it sets its own environment.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET swarmdeck AND TARGET swarmdeck-sandbox AND TARGET swarmdeck-runner)
  set(DAEMON_E2E_ENV
    SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR}
    SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR}
    SWARMDECK_E2E_STRATEGIES=${CMAKE_BINARY_DIR}/e2e-strategies
    PYTHONDONTWRITEBYTECODE=1)
  # name | unittest selector | timeout (s) | extra labels ("sanitize": the case needs no
  # deployment to succeed, so it also runs in the ASan+UBSan tree, whose runner cannot run in a
  # sandbox, and checks the daemon's request handling for memory errors there)
  set(DAEMON_E2E_TESTS
    "lifetimes|Lifetimes.test_lifetimes|300|sanitize"
    "detach_wait|Outlives.test_detach_starts_daemon_then_wait|600"
    "client_killed|Outlives.test_killed_clients_leave_work_running|600"
    "client_sigint|Outlives.test_sigint_cancels_only_its_own|600"
    "client_returns_stored|Outlives.test_results_stored_when_client_returns|600"
    "idle_exit|IdleExit.test_on_demand_exits_plain_stays|300|sanitize"
    "idle_exit_busy|IdleExit.test_on_demand_waits_for_its_run|600"
    "protocol_errors|Protocol.test_version_and_errors|300|sanitize"
    "protocol_readonly|Protocol.test_readonly_socket_refuses_changes|300|sanitize"
    "protocol_unknown_strategy|Protocol.test_unknown_strategy_stores_nothing|300|sanitize"
    "protocol_hangup|Protocol.test_client_hangs_up_mid_request|300"
    "protocol_other_uid|Protocol.test_other_uid_refused|300|sanitize"
    "events_resume|Events.test_resume_no_gap_no_duplicate|600"
    "events_resync|Events.test_since_in_the_future_resyncs|300"
    "crash_kill9|Crash.test_kill9_daemon|600"
    "crash_wait_kill9|Crash.test_wait_after_kill9|600"
    "crash_wait_sigterm|Crash.test_wait_after_sigterm|600"
    "on_finish|OnFinish.test_on_finish_gets_summary|300")
  foreach(spec ${DAEMON_E2E_TESTS})
    string(REPLACE "|" ";" parts "${spec}")
    list(GET parts 0 tname)
    list(GET parts 1 tsel)
    list(GET parts 2 ttimeout)
    set(tlabels "e2e;daemon")
    list(LENGTH parts nparts)
    if(nparts GREATER 3)
      list(GET parts 3 textra)
      list(APPEND tlabels ${textra})
    endif()
    add_test(NAME daemon_e2e_${tname}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/daemon_e2e.py -v ${tsel})
    set_tests_properties(daemon_e2e_${tname} PROPERTIES TIMEOUT ${ttimeout}
      LABELS "${tlabels}" ENVIRONMENT "${DAEMON_E2E_ENV}")
  endforeach()
endif()
