# Bundles through IPFS (docs/ipfs.md): tests/e2e/ipfs_e2e.py. ipfs_jsipfs runs a real js-ipfs
# (npm ipfs, installed by the test into <build>/npm-ipfs) on loopback and is skipped (77) when
# node/npm are missing or npm cannot install it; ipfs_hostile plays a lying node and always runs.
# Both fill stores with real swarms, so they need the sandbox helper as engine.cmake's tests do;
# they run test-cid (tests/unit/cid.cmake) for the CIDs computed locally.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET swarmdeck AND TARGET swarmdeck-sandbox
   AND TARGET e2e-fixtures)
  set(IPFS_E2E_ENV
    SWARMDECK_BIN_DIR=${CMAKE_BINARY_DIR}
    SWARMDECK_SRC_DIR=${CMAKE_SOURCE_DIR}
    SWARMDECK_E2E_STRATEGIES=${CMAKE_BINARY_DIR}/e2e-strategies
    PYTHONDONTWRITEBYTECODE=1)
  add_test(NAME ipfs_jsipfs
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/ipfs_e2e.py -v JsIpfs)
  set_tests_properties(ipfs_jsipfs PROPERTIES TIMEOUT 1200 LABELS "e2e;ipfs" SKIP_RETURN_CODE 77
    ENVIRONMENT "${IPFS_E2E_ENV}")
  add_test(NAME ipfs_hostile
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/ipfs_e2e.py -v Hostile)
  set_tests_properties(ipfs_hostile PROPERTIES TIMEOUT 300 LABELS "e2e;ipfs"
    ENVIRONMENT "${IPFS_E2E_ENV}")
endif()
