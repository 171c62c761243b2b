# `swarmdeck sync` through a stand-in for ssh that runs the remote command locally
# (sync_standin.py): it must end (it hung while the client's relay leaked descriptors into the
# command it spawned).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET swarmdeck AND TARGET swarmdeck-sandbox AND TARGET swarmdeck-runner)
  add_test(NAME sync_standin_ends
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/sync_standin.py -v
            SyncStandin.test_sync_ends)
  set_tests_properties(sync_standin_ends PROPERTIES TIMEOUT 300 LABELS "e2e;fleet"
    ENVIRONMENT "SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR};SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR};SWARMDECK_E2E_STRATEGIES=${CMAKE_BINARY_DIR}/e2e-strategies;PYTHONDONTWRITEBYTECODE=1")
endif()
