# Daemon end-to-end tests: `swarmdeck serve`, the CLI as its client (deploy --detach, wait),
# its HTTP API on the Unix sockets, the event stream, crash recovery and --on-finish
# (daemon_e2e.py); its metrics scraped by a real Prometheus (metrics_e2e.py); remote attach
# through a real OpenSSH server on loopback (remote_e2e.py). One ctest per case; each case has its own store, XDG_RUNTIME_DIR and
# XDG_STATE_HOME, so no two share a daemon. Run them with `ctest -L daemon`.
# This file is included before engine.cmake (alphabetical), so it sets its own environment.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET swarmdeck AND TARGET swarmdeck-sandbox AND TARGET swarmdeck-runner)
  set(DAEMON_E2E_ENV
    SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR}
    SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR}
    SWARMDECK_E2E_STRATEGIES=${CMAKE_BINARY_DIR}/e2e-strategies
    PYTHONDONTWRITEBYTECODE=1)
  # name | script | unittest selector | timeout (s) | extra labels. "sanitize": the case needs
  # no deployment to succeed, so it also runs in the ASan+UBSan tree (whose runner cannot run in
  # a sandbox) and checks the daemon's request handling for memory errors there.
  set(DAEMON_E2E_TESTS
    "daemon_e2e_lifetimes|daemon_e2e.py|Lifetimes.test_lifetimes|300|sanitize"
    "daemon_e2e_detach_wait|daemon_e2e.py|Outlives.test_detach_starts_daemon_then_wait|600"
    "daemon_e2e_client_killed|daemon_e2e.py|Outlives.test_killed_clients_leave_work_running|600"
    "daemon_e2e_client_sigint|daemon_e2e.py|Outlives.test_sigint_cancels_only_its_own|600"
    "daemon_e2e_client_returns_stored|daemon_e2e.py|Outlives.test_results_stored_when_client_returns|600"
    "daemon_e2e_idle_exit|daemon_e2e.py|IdleExit.test_on_demand_exits_plain_stays|300|sanitize"
    "daemon_e2e_idle_exit_busy|daemon_e2e.py|IdleExit.test_on_demand_waits_for_its_run|600"
    "daemon_e2e_protocol_errors|daemon_e2e.py|Protocol.test_version_and_errors|300|sanitize"
    "daemon_e2e_protocol_readonly|daemon_e2e.py|Protocol.test_readonly_socket_refuses_changes|300|sanitize"
    "daemon_e2e_protocol_unknown_strategy|daemon_e2e.py|Protocol.test_unknown_strategy_stores_nothing|300|sanitize"
    "daemon_e2e_protocol_hangup|daemon_e2e.py|Protocol.test_client_hangs_up_mid_request|300"
    "daemon_e2e_protocol_other_uid|daemon_e2e.py|Protocol.test_other_uid_refused|300|sanitize"
    "daemon_e2e_events_resume|daemon_e2e.py|Events.test_resume_no_gap_no_duplicate|600"
    "daemon_e2e_events_reconnects|daemon_e2e.py|Events.test_ten_thousand_reconnects|600"
    "daemon_e2e_events_resync|daemon_e2e.py|Events.test_since_in_the_future_resyncs|300"
    "daemon_e2e_crash_kill9|daemon_e2e.py|Crash.test_kill9_daemon|600"
    "daemon_e2e_crash_wait_kill9|daemon_e2e.py|Crash.test_wait_after_kill9|600"
    "daemon_e2e_crash_wait_sigterm|daemon_e2e.py|Crash.test_wait_after_sigterm|600"
    "daemon_e2e_attribution|daemon_e2e.py|Attribution.test_mutations_attributed_in_operations|300"
    "daemon_e2e_cleanup_all|daemon_e2e.py|Attribution.test_cleanup_all_goes_through_the_daemon|300"
    "daemon_e2e_jobs_benchmark|daemon_e2e.py|Jobs.test_benchmark_runs_in_the_daemon|600"
    "daemon_e2e_jobs_sighup|daemon_e2e.py|Jobs.test_benchmark_outlives_its_terminal|600"
    "daemon_e2e_on_finish|daemon_e2e.py|OnFinish.test_on_finish_gets_summary|300"
    "metrics_exposition_and_scrape|metrics_e2e.py|Metrics.test_exposition_and_scrape|300"
    "metrics_rules_file|metrics_e2e.py|Metrics.test_rules_file|300|sanitize"
    "metrics_bad_address_and_paths|metrics_e2e.py|Metrics.test_bad_address_and_paths|300|sanitize"
    "remote_deploy_wait_status|remote_e2e.py|Remote.test_deploy_wait_status|300"
    "remote_readonly_and_bad_url|remote_e2e.py|Remote.test_readonly_and_bad_url|300|sanitize")
  foreach(spec ${DAEMON_E2E_TESTS})
    string(REPLACE "|" ";" parts "${spec}")
    list(GET parts 0 tname)
    list(GET parts 1 tscript)
    list(GET parts 2 tsel)
    list(GET parts 3 ttimeout)
    set(tlabels "e2e;daemon")
    list(LENGTH parts nparts)
    if(nparts GREATER 4)
      list(GET parts 4 textra)
      list(APPEND tlabels ${textra})
    endif()
    add_test(NAME ${tname}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/${tscript} -v ${tsel})
    set_tests_properties(${tname} PROPERTIES TIMEOUT ${ttimeout}
      LABELS "${tlabels}" ENVIRONMENT "${DAEMON_E2E_ENV}")
  endforeach()
endif()
