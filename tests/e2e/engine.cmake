# Engine end-to-end tests: the swarmdeck command line against real sandboxes and a real store.
# python3 (standard library only) drives the binaries; tests/fixtures/strategies/probe.c is a
# static user strategy, copied with its manifests into one directory so the manifests' relative
# "files" resolve. Each test uses its own store and XDG_RUNTIME_DIR (lib_e2e.py), so they run
# in parallel.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET swarmdeck AND TARGET swarmdeck-sandbox AND TARGET swarmdeck-runner)
  set(E2E_STRATEGY_DIR ${CMAKE_BINARY_DIR}/e2e-strategies)
  add_executable(e2e-probe ${CMAKE_SOURCE_DIR}/tests/fixtures/strategies/probe.c)
  set_target_properties(e2e-probe PROPERTIES OUTPUT_NAME probe
    RUNTIME_OUTPUT_DIRECTORY ${E2E_STRATEGY_DIR})
  if(SWARMDECK_SANITIZED)
    target_compile_options(e2e-probe PRIVATE -fno-sanitize=all)
    target_link_options(e2e-probe PRIVATE -fno-sanitize=all)
  endif()
  # Static: the sandbox root has /usr but nothing else is guaranteed.
  target_link_options(e2e-probe PRIVATE -static)
  file(GLOB E2E_MANIFESTS ${CMAKE_SOURCE_DIR}/tests/fixtures/strategies/*.json)
  foreach(m ${E2E_MANIFESTS})
    get_filename_component(mname ${m} NAME)
    configure_file(${m} ${E2E_STRATEGY_DIR}/${mname} COPYONLY)
  endforeach()
  add_custom_target(e2e-fixtures ALL DEPENDS e2e-probe)

  set(E2E_ENV
    SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR}
    SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR}
    SWARMDECK_E2E_STRATEGIES=${E2E_STRATEGY_DIR}
    PYTHONDONTWRITEBYTECODE=1)
  set(E2E_DIR ${CMAKE_CURRENT_LIST_DIR})

  # name | script | unittest selector (empty = all) | timeout
  set(E2E_TESTS
    "engine_swarm|engine_swarm.py||300"
    "engine_containment_readhost|engine_containment.py|Containment.test_read_host_files|120"
    "engine_containment_connect|engine_containment.py|Containment.test_connect_host|120"
    "engine_containment_forkbomb|engine_containment.py|Containment.test_fork_bomb|120"
    "engine_containment_memory|engine_containment.py|Containment.test_memory_limit|120"
    "engine_containment_flood|engine_containment.py|Containment.test_flood_stdout|300"
    "engine_containment_ignoreterm|engine_containment.py|Containment.test_ignore_sigterm|120"
    "engine_containment_daemon|engine_containment.py|Containment.test_daemon|120"
    "engine_crash_cleanup|engine_crash.py|Crash.test_kill9_then_cleanup|300"
    "engine_crash_redeploy|engine_crash.py|Crash.test_kill9_then_deploy|300"
    "engine_capture|engine_capture.py||300"
    "engine_badinput|engine_badinput.py|BadInput|180"
    "engine_badinput_bytes|engine_badinput.py|StoreBytes|120"
    "engine_userstrategy|engine_userstrategy.py||180")
  foreach(spec ${E2E_TESTS})
    string(REPLACE "|" ";" parts "${spec}")
    list(GET parts 0 tname)
    list(GET parts 1 tscript)
    list(GET parts 2 tsel)
    list(GET parts 3 ttimeout)
    if(EXISTS ${E2E_DIR}/${tscript})
      add_test(NAME ${tname} COMMAND ${Python3_EXECUTABLE} ${E2E_DIR}/${tscript} -v ${tsel})
      set_tests_properties(${tname} PROPERTIES TIMEOUT ${ttimeout} LABELS "e2e"
        ENVIRONMENT "${E2E_ENV}")
    endif()
  endforeach()
endif()
