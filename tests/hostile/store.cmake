# Hostile-input and broken-machine tests of the store, bundles and data (issue 14, items 6,
# 8, 9 and 12): a store whose filesystem fills mid-swarm, crafted import bundles, close-only
# imported data, kill -9 loose ends. Each tests/hostile/store_*.py is a unittest module using
# tests/e2e/lib_e2e.py, with the environment tests/e2e/engine.cmake sets (E2E_ENV).
if(Python3_FOUND AND TARGET e2e-fixtures)
  # name | script | unittest selector | timeout
  set(HOSTILE_STORE_TESTS
    "hostile_store_full|store_full.py|StoreFull|300"
    "hostile_store_bundle|store_bundle.py|Bundle|300"
    "hostile_store_closeonly|store_data.py|CloseOnly|180"
    "hostile_store_recover|store_recover.py|Recover|300")
  foreach(spec ${HOSTILE_STORE_TESTS})
    string(REPLACE "|" ";" parts "${spec}")
    list(GET parts 0 tname)
    list(GET parts 1 tscript)
    list(GET parts 2 tsel)
    list(GET parts 3 ttimeout)
    if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/${tscript})
      add_test(NAME ${tname}
               COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/${tscript} -v ${tsel})
      set_tests_properties(${tname} PROPERTIES TIMEOUT ${ttimeout} LABELS "e2e;hostile"
        ENVIRONMENT "${E2E_ENV}")
    endif()
  endforeach()
endif()
